// The setup plan as data: the ordered steps that turn a fresh Debian/Ubuntu box into a ready one.
import { backupKeyStep } from './backup-key-step.js';
import { boxIdentityPath } from '../../agent/backup/encryption.js';
import { parsePathsState, pathsState, symlink, readLink, removeFile } from '../../commands/files.js';
import { probe, type Cmd } from '../../commands/cmd.js';
import type { Config } from '../../config/types.js';
import { needs, ok, type Step } from '../../plan/step.js';
import { daemonReload, enableNow, enableUnit, isActive, isEnabled, nginxReload, nginxTest, runAgentVersion, stopUnit, systemdVerify, tryRestart, visudoCheck } from '../../commands/system.js';
import { cronSpecJson } from '../../cron/spec.js';
import { cronSpec } from '../cron/plan.js';
import type { BoxFacts } from './facts.js';
import { agentStep } from './agent-step.js';
import { AGENT_BIN, AGENT_BUNDLE, AGENT_DIR, LEGACY_AGENT_BUNDLE, layoutOf, NGINX_GROUP, STAGING_DIR } from './layout.js';
import type { AgentBundle } from '../package-files.js';
import { managedFileStep } from './managed-file.js';
import { notifySettingsStep } from './notify-step.js';
import type { RenderedSetupFiles } from './render-files.js';
import { envFileStep, nodeRuntimeStep, foldersStep, packageNeeds, packagesStep, runtimeDirStep, userStep } from './system-steps.js';

export interface SetupInputs {
  readonly config: Config;
  readonly facts: BoxFacts;
  readonly files: RenderedSetupFiles;
  readonly agentBundle: AgentBundle;
  readonly version: string;
  /** Public keys (OpenSSH lines) that may log in as the deploy user. */
  readonly authorizedKeys: readonly string[];
}

export const AGENT_WRAPPER = `#!/bin/sh\n# Managed by mono: runs the mono agent with the system Node.js.\nexec node ${AGENT_BUNDLE} "$@"\n`;

function symlinkStep(id: string, describe: string, target: string, path: string, afterChange: Step['apply'] | undefined): Step {
  return {
    id,
    describe,
    async check(t) {
      const out = await t.run(readLink(path));
      return out.code === 0 && out.stdout.trim() === target ? ok : needs(out.code === 0 ? `points to ${out.stdout.trim()}` : 'missing');
    },
    async apply(t) {
      await t.run(symlink(target, path));
      await afterChange?.(t);
    },
  };
}

export function buildSetupPlan(inputs: SetupInputs): Step[] {
  const { config, facts, files } = inputs;
  const L = layoutOf(config);
  const u = config.user;
  const root = (path: string, mode: string) => ({ path, mode, owner: 'root', group: 'root' });
  const app = (path: string, mode: string) => ({ path, mode, owner: u, group: u });
  const stagingDir = L.staging;

  const steps: Step[] = [
    packagesStep(packageNeeds(facts, { age: config.backups.encryptRecipients.length > 0 })),
    userStep(u, L.root),
    foldersStep([
      app(L.root, '0750'),
      app(L.releases, '0750'),
      app(L.shared, '0750'),
      app(L.monoDir, '0750'),
      app(L.store, '0750'),
      app(L.handover, '0750'),
      app(L.instances, '0750'),
      app(L.sshDir, '0700'),
      app(L.backups, '0700'),
      root(AGENT_DIR, '0755'),
      root('/var/lib/mono', '0700'),
      root(STAGING_DIR, '0700'),
      root(stagingDir, '0700'),
      root('/etc/nginx/mono', '0755'),
      root(L.nginxIncludeDir, '0755'),
    ]),
    envFileStep(L.envFile, u),
    notifySettingsStep(config, L.monoDir, stagingDir),
    ...(config.backups.encryptRecipients.length > 0 ? [backupKeyStep(boxIdentityPath(L.root), u)] : []),
  ];

  if (inputs.authorizedKeys.length > 0) {
    steps.push(
      managedFileStep({
        id: 'authorized-keys',
        describe: `SSH keys that may log in as ${u} (${inputs.authorizedKeys.length})`,
        path: L.authorizedKeys,
        content: inputs.authorizedKeys.map((k) => k.trim()).join('\n') + '\n',
        mode: '0600',
        owner: u,
        group: u,
        stagingDir,
      }),
    );
  }

  steps.push(
    managedFileStep({ id: 'tmpfiles', describe: `boot-time rule for ${L.runDir}`, path: L.tmpfiles, content: files.tmpfiles.content, mode: '0644', owner: 'root', group: 'root', stagingDir }),
    runtimeDirStep(L.tmpfiles, [
      { path: L.runDir, mode: '2750', owner: u, group: NGINX_GROUP },
      { path: `${L.runDir}/tenants`, mode: '2750', owner: u, group: NGINX_GROUP },
    ]),
    nodeRuntimeStep(AGENT_BIN),
    // The agent first, the wrapper that runs it second: on an upgrade the wrapper never points at a missing agent.
    agentStep({ dir: AGENT_DIR, bundle: inputs.agentBundle, version: inputs.version, afterChange: [probe(['node', AGENT_BUNDLE, '--version']), tryRestart(L.cronUnitName)] }),
    managedFileStep({
      id: 'agent-bin',
      describe: `${AGENT_BIN} command`,
      path: AGENT_BIN,
      content: AGENT_WRAPPER,
      mode: '0755',
      owner: 'root',
      group: 'root',
      stagingDir,
      validateStaged: (staged) => probe(['sh', '-n', staged], { privileged: true }),
      validationName: 'sh -n',
      // A new wrapper runs another agent: restart the scheduler on it, then drop the single-file agent of older monos.
      afterChange: [runAgentVersion(AGENT_BIN), tryRestart(L.cronUnitName), removeFile(LEGACY_AGENT_BUNDLE)],
    }),
    managedFileStep({
      id: 'priv-helper',
      describe: `privileged helper ${L.privHelper} (checks every argument)`,
      path: L.privHelper,
      content: files.privHelper.content,
      mode: '0755',
      owner: 'root',
      group: 'root',
      stagingDir,
      validateStaged: (staged) => probe(['sh', '-n', staged], { privileged: true }),
      validationName: 'sh -n',
    }),
    managedFileStep({
      id: 'sudoers',
      describe: `sudo rule: ${u} may run only ${L.privHelper}`,
      path: L.sudoers,
      content: files.sudoers.content,
      mode: '0440',
      owner: 'root',
      group: 'root',
      stagingDir,
      validateStaged: (staged) => visudoCheck(staged),
      validationName: 'visudo -c',
    }),
    // The bridge's service first: verifying the socket unit looks for the service it activates.
    ...(files.bridge === undefined
      ? []
      : [
          unitFileStep('unit-bridge-service', `systemd unit ${config.app}-bridge@.service (forwards a release's socket to its port)`, files.bridge.service.path, files.bridge.service.content, stagingDir),
          unitFileStep('unit-bridge-socket', `systemd unit ${config.app}-bridge@.socket (nginx's socket for a web process on a port)`, files.bridge.socket.path, files.bridge.socket.content, stagingDir),
        ]),
    // The socket's service first (verifying a socket unit looks for it), then the socket, which the web unit names.
    ...(files.publicSocket === undefined
      ? []
      : [
          unitFileStep('unit-public-service', `systemd unit ${config.app}-public.service (answers a connection while no web instance runs)`, files.publicSocket.service.path, files.publicSocket.service.content, stagingDir),
          unitFileStep('unit-public-socket', `systemd unit ${L.publicSocketName} (the public socket, shared by every version of the web process)`, files.publicSocket.socket.path, files.publicSocket.socket.content, stagingDir),
        ]),
    ...files.units.map((unit) => unitFileStep(`unit-${unit.process}`, `systemd unit ${config.app}-${unit.process}@.service (hardened)`, unit.path, unit.content, stagingDir)),
    unitFileStep('unit-current', `systemd unit ${L.currentUnitName} (restores the route to the current release after a boot)`, L.currentUnit, files.currentUnit.content, stagingDir),
    enabledUnitStep(L.currentUnitName),
    // The schedule is the app user's file: mono deploy rewrites it too, and the service reloads it by itself.
    managedFileStep({ id: 'cron-spec', describe: `mono cron jobs ${L.cronSpec} (${config.jobs.map((j) => j.name).join(', ') || 'none'})`, path: L.cronSpec, content: cronSpecJson(cronSpec(config)), mode: '0600', owner: u, group: u, stagingDir }),
    unitFileStep('unit-cron', `systemd unit ${L.cronUnitName} (mono cron, the maintenance scheduler; hardened)`, L.cronUnit, files.cronUnit.content, stagingDir, [tryRestart(L.cronUnitName)]),
    runningUnitStep(L.cronUnitName),
    // Only strategy socket has a public socket: one left from before would hold the port nginx or the app now binds.
    ...(config.handover.strategy === 'socket' ? [] : [publicSocketOffStep(config)]),
    // Without a proxy the app's own site must go: it would hold a port the app may now serve itself.
    ...(config.handover.strategy === 'nginx'
      ? nginxSteps(config, files, stagingDir)
      : [
          siteOffStep('nginx-site-off', `no nginx site for ${config.app} (handover.strategy: ${config.handover.strategy})`, L.nginxSiteLink),
          // Debian's stock site holds port 80 on every address.
          ...(config.handover.publicListen?.port === 80 ? [disableDefaultSite()] : []),
        ]),
  );

  return steps;
}

/** The site, its include and its link; handover strategies without a proxy (socket, bind-retry) have none. */
function nginxSteps(config: Config, files: RenderedSetupFiles, stagingDir: string): Step[] {
  const L = layoutOf(config);
  const nginxCheckAndReload = { validateInstalled: nginxTest(), validationName: 'nginx -t', afterChange: [nginxReload()] };
  return [
    managedFileStep({ id: 'nginx-proxy', describe: `nginx include ${L.nginxProxy}`, path: L.nginxProxy, content: files.nginxProxy.content, mode: '0644', owner: 'root', group: 'root', stagingDir, ...nginxCheckAndReload }),
    managedFileStep({ id: 'nginx-site', describe: `nginx site ${L.nginxSite}`, path: L.nginxSite, content: files.nginxSite.content, mode: '0644', owner: 'root', group: 'root', stagingDir, ...nginxCheckAndReload }),
    ...(config.nginx.serverNames.includes('_') ? [disableDefaultSite()] : []),
    symlinkStep('nginx-enable', `nginx site enabled (${L.nginxSiteLink})`, L.nginxSite, L.nginxSiteLink, async (t) => {
      try {
        await t.run(nginxTest());
      } catch (error) {
        await t.run(removeFile(L.nginxSiteLink));
        throw error;
      }
      await t.run(nginxReload());
    }),
  ];
}

/**
 * Leaving strategy socket: its socket unit is stopped and both public units are removed. A version still running keeps its
 * own copy of the socket, and accepts on it until it is retired and has drained (mono deploy does that).
 */
function publicSocketOffStep(config: Config): Step {
  const L = layoutOf(config);
  const files = [L.publicSocket, L.publicService];
  return {
    id: 'public-socket-off',
    describe: `no public socket for ${config.app} (handover.strategy: ${config.handover.strategy})`,
    async check(t) {
      const state = parsePathsState((await t.run(pathsState(files))).stdout);
      const present = files.filter((file) => (state.get(file) ?? 'missing') !== 'missing');
      return present.length === 0 ? ok : needs(`${present.join(' and ')} installed`);
    },
    async apply(t) {
      await t.run(stopUnit(L.publicSocketName));
      for (const file of files) await t.run(removeFile(file));
      await t.run(daemonReload());
    },
  };
}

/** Removes an enabled nginx site (a link in sites-enabled), then tests and reloads nginx. */
function siteOffStep(id: string, describe: string, link: string): Step {
  return {
    id,
    describe,
    async check(t) {
      const out = await t.run(probe(['test', '-e', link], { okCodes: [0, 1] }));
      return out.code === 1 ? ok : needs(`${link} is enabled`);
    },
    async apply(t) {
      await t.run(removeFile(link));
      await t.run(nginxTest());
      await t.run(nginxReload());
    },
  };
}

/** The app claims default_server, so Debian's stock "Welcome to nginx" site must not be enabled beside it. */
function disableDefaultSite(): Step {
  return siteOffStep('nginx-default-off', "Debian's default nginx site disabled (the app is the default server)", '/etc/nginx/sites-enabled/default');
}

/** A service enabled at boot and running now. */
function runningUnitStep(unit: string): Step {
  return {
    id: `run-${unit.replace(/\.service$/, '')}`,
    describe: `${unit} enabled and running`,
    async check(t) {
      const [enabled, active] = await Promise.all([t.run(isEnabled(unit)), t.run(isActive(unit))]);
      const e = enabled.stdout.trim();
      const a = active.stdout.trim();
      return e === 'enabled' && a === 'active' ? ok : needs(`${e || 'not enabled'}, ${a || 'not running'}`);
    },
    async apply(t) {
      await t.run(enableNow(unit));
    },
  };
}

/** A unit enabled at boot (checked with is-enabled, which needs no root). */
function enabledUnitStep(unit: string): Step {
  return {
    id: `enable-${unit.replace(/\.service$/, '')}`,
    describe: `${unit} enabled at boot`,
    async check(t) {
      const out = await t.run(isEnabled(unit));
      return out.stdout.trim() === 'enabled' ? ok : needs(out.stdout.trim() || 'not enabled');
    },
    async apply(t) {
      await t.run(enableUnit(unit));
    },
  };
}

/** A systemd unit file: verified with systemd-analyze before it replaces the old one, then daemon-reload. */
function unitFileStep(id: string, describe: string, path: string, content: string, stagingDir: string, then: readonly Cmd[] = []): Step {
  return managedFileStep({
    id,
    describe,
    path,
    content,
    mode: '0644',
    owner: 'root',
    group: 'root',
    stagingDir,
    validateStaged: (staged) => systemdVerify(staged),
    validationName: 'systemd-analyze verify',
    afterChange: [daemonReload(), ...then],
  });
}
