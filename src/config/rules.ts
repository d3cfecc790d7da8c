// Phase 3: rules that span several fields (TLS pairs, a web process for nginx, valid cron expressions…).
import cron from 'node-cron';
import { PROCESS_NAME } from './procfile.js';
import { isJobName, JOB_NAMES } from '../cron/names.js';
import { problem, type Problem } from './problems.js';
import type { RawConfig } from './schema.js';
import type { Config } from './types.js';

const SERVER_NAME = /^(?:_|\*\.[a-z0-9.-]+|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|~[^\s;{}'"`$\\]+)$/i;

export function crossFieldProblems(config: Config, raw: RawConfig): Problem[] {
  const problems: Problem[] = [];
  const tls = raw.nginx.tls;
  if (tls !== undefined && (tls.certificate === undefined) !== (tls.key === undefined)) {
    problems.push(problem(tls.certificate === undefined ? 'nginx.tls.certificate' : 'nginx.tls.key', 'is required when the other TLS file is set', 'give both nginx.tls.certificate and nginx.tls.key, or neither'));
  }
  if (tls !== undefined && tls.certificate === undefined && tls.key === undefined) {
    problems.push(problem('nginx.tls', 'needs certificate and key', 'remove nginx.tls for plain HTTP, or give the paths of the certificate and key on the box'));
  }
  if (config.nginx.tls !== undefined && config.nginx.tls.listen.port === config.nginx.listen.port) {
    problems.push(problem('nginx.tls.listen', `uses the same port as nginx.listen (${config.nginx.listen.port})`, 'HTTP and HTTPS need different ports, usually 80 and 443'));
  }
  raw.nginx.server_names.forEach((name, i) => {
    if (!SERVER_NAME.test(name)) problems.push(problem(`nginx.server_names[${i}]`, `"${name}" is not a valid server name`, 'use a host name such as shop.example.com, a wildcard such as *.example.com, or _ for any'));
  });
  if (raw.processes !== undefined) {
    for (const name of Object.keys(raw.processes)) {
      if (!PROCESS_NAME.test(name)) problems.push(problem(`processes.${name}`, `"${name}" is not a valid process type name`, 'use lower-case letters, digits, "-" and "_", starting with a letter'));
    }
  }
  for (const process of Object.keys(config.handover.drainTimeoutsMs)) {
    if (config.processes[process] === undefined) {
      const known = Object.keys(config.processes).join(', ') || 'none';
      problems.push(problem(`handover.drain_timeouts.${process}`, `"${process}" is not a process type of this app`, `the process types are: ${known}`));
    } else if (process === 'release') {
      problems.push(problem('handover.drain_timeouts.release', 'the release command runs once and is not drained', 'remove it; drain budgets apply to long-running process types'));
    }
  }
  const processSource = raw.processes === undefined ? 'procfile' : 'processes';
  if (config.processes['bridge'] !== undefined) {
    problems.push(problem(`${processSource}`, 'the process type name "bridge" is taken by mono (<app>-bridge@ units forward a release\'s socket to its port)', 'rename that process type, for example to "bridge-worker"'));
  }
  problems.push(...strategyProblems(config));
  if (Object.keys(config.processes).length > 0 && config.processes['web'] === undefined) {
    const noWeb =
      config.handover.strategy === 'nginx'
        ? problem(processSource, 'there is no "web" process type, so nginx has nothing to send requests to', 'add a line such as "web: bin/server" (it listens on $MONO_LISTEN)')
        : problem(processSource, `there is no "web" process type, so nothing serves handover.public_listen (handover.strategy: ${config.handover.strategy})`, 'add a line such as "web: bin/server" (mono/runtime finds where to listen by itself)');
    problems.push(noWeb);
  }
  for (const [job, setting] of Object.entries(raw.schedules)) {
    const expression = typeof setting === 'object' ? setting.cron : setting;
    if (expression === undefined || expression === 'off') continue;
    const path = typeof setting === 'object' ? `schedules.${job}.cron` : `schedules.${job}`;
    const check = cron.validateDetailed(expression);
    if (!check.valid) {
      const why = check.errors.map((e) => e.message).join('; ');
      problems.push(problem(path, `"${expression}" is not a valid cron expression: ${why}`, 'use five fields: minute hour day-of-month month day-of-week, for example "0 3 * * *" (a sixth field in front is seconds), or "off"'));
    }
  }
  if (config.restore.target === 'scratch' && config.jobs.some((j) => j.name === 'restore_test')) {
    const path = raw.schedules.restore_test === undefined ? 'restore.target' : 'schedules.restore_test';
    problems.push(problem(path, 'a scratch drill needs sudo to create its database, and the scheduler on the box runs without it', 'set schedules.restore_test: off and run mono restore-test from your laptop or CI, or use restore.target: cluster'));
  }
  const offsite = config.backups.offsite;
  if (offsite !== undefined && offsite.target.host === config.target.host && offsite.target.port === config.target.port) {
    problems.push(problem('backups.offsite.host', 'is the app box itself', 'an offsite copy must live on another machine, or it is lost with the box'));
  }
  for (const [job] of Object.entries(config.notifications.ping)) {
    if (!isJobName(job)) {
      problems.push(problem(`notifications.ping.${job}`, 'is not a job mono runs', `ping URLs can be set for: ${JOB_NAMES.join(', ')}`));
    }
  }
  for (const [path, value] of [['notifications.webhook', config.notifications.webhook], ...Object.entries(config.notifications.ping).map(([k, v]) => [`notifications.ping.${k}`, v] as const)] as const) {
    if (value !== undefined && value.reveal() !== '' && !/^https?:\/\/[^\s]+$/.test(value.reveal())) problems.push(problem(path, 'is not an http(s) URL', 'for example: https://hc-ping.com/<uuid>'));
  }
  if (/^\/(home|root|run\/user)(\/|$)/.test(config.root)) {
    problems.push(problem('root', `${config.root} is hidden from the app by the unit's ProtectHome=yes`, 'put the app under /srv (the default /srv/<app>) or another folder outside /home, /root and /run/user'));
  }
  if (raw.env_file !== undefined && raw.env_command !== undefined) {
    problems.push(problem('env_command', 'cannot be used together with env_file', 'keep one: env_file uploads a local file, env_command uploads the output of a command'));
  }
  raw.shared.forEach((path, i) => {
    if (!/^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._@+-]+(?:\/[A-Za-z0-9._@+-]+)*$/.test(path)) {
      problems.push(problem(`shared[${i}]`, `"${path}" is not a plain relative path inside the release`, 'use paths such as storage or log/app.log (no leading /, no ..)'));
    }
  });
  if (config.user === 'root') problems.push(problem('user', 'the app must not run as root', 'pick an unprivileged name; mono setup creates the user'));
  return problems;
}

/** handover.strategy socket and bind-retry have no proxy in front: they need an address of their own and cannot route by tenant. */
function strategyProblems(config: Config): Problem[] {
  const { strategy, publicListen, tenantKey } = config.handover;
  if (strategy === 'nginx') {
    return publicListen === undefined ? [] : [problem('handover.public_listen', 'is only used with handover.strategy socket or bind-retry', 'remove it (with nginx in front, clients connect to nginx.listen), or set handover.strategy: socket')];
  }
  const problems: Problem[] = [];
  if (publicListen === undefined) {
    problems.push(problem('handover.public_listen', `is required with handover.strategy: ${strategy}`, 'give the port, or address:port, your clients connect to, for example 8080 or 0.0.0.0:80 (plain HTTP: mono checks the app there over HTTP)'));
  }
  if (strategy === 'bind-retry' && publicListen !== undefined && publicListen.port < 1024) {
    problems.push(problem('handover.public_listen', `port ${publicListen.port} needs a privilege the hardened unit does not give the app (binding below 1024)`, 'use handover.strategy: socket, where systemd binds the port and hands it over, or a port from 1024 up'));
  }
  if (tenantKey !== undefined) {
    problems.push(
      problem(
        'handover.tenant_key',
        `per-tenant cutover is not possible with handover.strategy: ${strategy}: without a proxy nothing can send a tenant's requests to the old version while the new one serves the others`,
        'use handover.strategy: nginx for per-tenant cutover, or remove handover.tenant_key (the old version still finishes its running jobs before it exits)',
      ),
    );
  }
  return problems;
}
