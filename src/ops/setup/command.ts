// `mono setup`: provision the box over SSH, idempotently; --dry-run shows the plan and changes nothing.
import { readFileSync } from 'node:fs';
import type { Context } from '../../cli/context.js';
import { monoVersion } from '../../cli/version.js';
import { MonoError } from '../../errors.js';
import { runPlan, summarize } from '../../plan/run.js';
import { audit } from '../audit.js';
import { connect } from '../connect.js';
import { readAgentBundle } from '../package-files.js';
import { readFacts } from './facts.js';
import { layoutOf } from './layout.js';
import { buildSetupPlan } from './plan.js';
import { setupOffsite } from '../backup/offsite-setup.js';
import { renderSetupFiles } from './render-files.js';

function readPublicKeys(paths: readonly string[]): string[] {
  return paths.map((path) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch (error) {
      throw new MonoError('USAGE', `cannot read the public key ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
        hint: 'set ssh.authorized_keys in mono.yml to the .pub files of the keys that may deploy',
      });
    }
    if (!/^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+/.test(text)) {
      throw new MonoError('USAGE', `${path} is not an OpenSSH public key`, { hint: 'point ssh.authorized_keys at .pub files (never at a private key)' });
    }
    return text;
  });
}

export async function setupCommand(ctx: Context): Promise<number> {
  const started = performance.now();
  const config = await ctx.config();
  const version = monoVersion();
  const authorizedKeys = readPublicKeys(config.ssh.authorizedKeys);
  if (authorizedKeys.length === 0) ctx.log.warn('no public key for the deploy user (set ssh.identity or ssh.authorized_keys): deploys will not be able to log in');
  const files = renderSetupFiles(config);
  const agentBundle = readAgentBundle();
  const transport = await connect(ctx, config, 'setup');
  ctx.log.info(`${ctx.options.dryRun ? 'planning setup of' : 'setting up'} ${transport.where} for ${config.app}${ctx.options.dryRun ? ' (dry run: nothing will change)' : ''}`);
  const facts = await readFacts(transport);
  ctx.log.debug(`box: ${facts.osName}, node ${facts.node || 'none'}, postgresql ${facts.pgServers.join(',') || 'none'}`);
  const steps = buildSetupPlan({ config, facts, files, agentBundle, version, authorizedKeys });
  const results = await runPlan(steps, { transport, dryRun: ctx.options.dryRun, log: ctx.log });
  if (config.backups.offsite !== undefined) {
    ctx.log.info('offsite backups:');
    await setupOffsite(ctx, config, transport);
  }
  const sum = summarize(results);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (sum.changed > 0) {
    await audit(transport, layoutOf(config).auditLog, config.user, { action: 'setup', version, changed: results.filter((r) => r.status === 'changed').map((r) => r.id) });
  }
  ctx.log.event('setup.done', { ...sum, seconds: Number(seconds), dryRun: ctx.options.dryRun });
  const c = ctx.log.colors;
  if (ctx.options.dryRun) {
    ctx.log.info(sum.wouldChange === 0 ? c.green(`nothing to do: all ${sum.unchanged} steps are in place (${seconds} s)`) : `${c.yellow(`${sum.wouldChange} steps would change`)}, ${sum.unchanged} unchanged; nothing was changed (dry run, ${seconds} s)`);
  } else {
    ctx.log.info(sum.changed === 0 ? c.green(`box is set up: all ${sum.unchanged} steps unchanged (${seconds} s)`) : c.green(`box is set up: ${sum.changed} changed, ${sum.unchanged} unchanged (${seconds} s)`));
  }
  return 0;
}
