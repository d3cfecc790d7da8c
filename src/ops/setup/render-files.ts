// Renders every file mono setup installs from templates/ (the project's templates/ folder overrides mono's).
import { AGENT_BIN, layoutOf, NGINX_GROUP } from './layout.js';
import { serviceProcesses, tenantVariable, type Config, type ListenAddress } from '../../config/types.js';
import { readTemplate } from '../../templates/find.js';
import { render, type TemplateValues } from '../../templates/render.js';

export interface RenderedFile {
  readonly template: string;
  readonly path: string;
  readonly content: string;
}

export interface RenderedSetupFiles {
  readonly units: readonly (RenderedFile & { readonly process: string })[];
  readonly nginxSite: RenderedFile;
  readonly nginxProxy: RenderedFile;
  readonly sudoers: RenderedFile;
  readonly privHelper: RenderedFile;
  readonly tmpfiles: RenderedFile;
  readonly currentUnit: RenderedFile;
  /** The mono cron service (the box's maintenance scheduler). */
  readonly cronUnit: RenderedFile;
  /** handover.listen: port: the socket and the forwarder that bridge /run/<app>/<release>.sock to the release's port. */
  readonly bridge?: { readonly socket: RenderedFile; readonly service: RenderedFile };
  /** handover.strategy: socket: the public socket every version of the web process inherits, and the service it needs. */
  readonly publicSocket?: { readonly socket: RenderedFile; readonly service: RenderedFile };
}

function listenText(l: ListenAddress): string {
  return l.address === undefined ? String(l.port) : `${l.address}:${l.port}`;
}

function renderFile(template: string, path: string, values: TemplateValues, projectDir: string): RenderedFile {
  const source = readTemplate(template, projectDir);
  return { template, path, content: render(source.text, values, source.origin) };
}

/** The drain budget of a process type: its own from handover.drain_timeouts, or handover.drain_timeout. */
export function drainTimeoutMs(config: Pick<Config, 'handover'>, process: string): number {
  return config.handover.drainTimeoutsMs[process] ?? config.handover.drainTimeoutMs;
}

export function renderSetupFiles(config: Config): RenderedSetupFiles {
  const layout = layoutOf(config);
  const base = { app: config.app, app_ident: config.app.replaceAll('-', '_'), user: config.user, root: config.root, nginx_group: NGINX_GROUP };
  const { strategy, publicListen } = config.handover;
  const publicValues = { ...base, public_listen: publicListen === undefined ? '' : listenText(publicListen) };
  const units = serviceProcesses(config).map((process) => ({
    process,
    ...renderFile(
      'systemd/process@.service',
      layout.unit(process),
      {
        ...base,
        process,
        web: process === 'web',
        ...publicValues,
        public_host: publicListen?.address ?? '',
        public_port: publicListen?.port ?? 0,
        web_shared_socket: process === 'web' && strategy === 'socket',
        web_bind_retry: strategy === 'bind-retry',
        web_socket: strategy === 'nginx' && config.handover.listen === 'socket',
        web_port: strategy === 'nginx' && config.handover.listen === 'port',
        start_timeout_s: Math.ceil(config.health.timeoutMs / 1000) + 30,
        // The unit's stop timeout must cover the whole drain budget: nothing is killed before it ends.
        drain_timeout_s: Math.ceil(drainTimeoutMs(config, process) / 1000) + 60,
      },
      config.dir,
    ),
  }));
  const tls = config.nginx.tls;
  const nginxValues: TemplateValues = {
    ...base,
    listen: listenText(config.nginx.listen),
    server_names: config.nginx.serverNames.join(' '),
    default_server: config.nginx.serverNames.includes('_'),
    tls: tls !== undefined,
    tls_listen: tls === undefined ? '' : listenText(tls.listen),
    https_port_suffix: tls === undefined || tls.listen.port === 443 ? '' : `:${tls.listen.port}`,
    tls_certificate: tls?.certificate ?? '',
    tls_key: tls?.key ?? '',
    client_max_body_size: config.nginx.clientMaxBodySize,
    tenant: config.handover.tenantKey !== undefined,
    tenant_key: config.handover.tenantKey === undefined ? '' : config.handover.tenantKey.kind === 'host' ? 'host' : `${config.handover.tenantKey.kind} ${config.handover.tenantKey.name}`,
    tenant_var: config.handover.tenantKey === undefined ? '' : tenantVariable(config.handover.tenantKey),
  };
  return {
    units,
    nginxSite: renderFile('nginx/site.conf', layout.nginxSite, nginxValues, config.dir),
    nginxProxy: renderFile('nginx/proxy.conf', layout.nginxProxy, nginxValues, config.dir),
    sudoers: renderFile('sudo/sudoers', layout.sudoers, { ...base, helper: layout.privHelper }, config.dir),
    privHelper: renderFile('sudo/priv.sh', layout.privHelper, { ...base, processes: serviceProcesses(config).join(' '), agent_bin: AGENT_BIN, web_listen: strategy === 'nginx' ? config.handover.listen : strategy }, config.dir),
    tmpfiles: renderFile('systemd/tmpfiles.conf', layout.tmpfiles, base, config.dir),
    currentUnit: renderFile('systemd/current.service', layout.currentUnit, base, config.dir),
    cronUnit: renderFile('systemd/cron.service', layout.cronUnit, { ...base, agent_bin: AGENT_BIN, backups: config.backups.dir }, config.dir),
    ...(strategy === 'socket'
      ? {
          publicSocket: {
            socket: renderFile('systemd/public.socket', layout.publicSocket, publicValues, config.dir),
            service: renderFile('systemd/public.service', layout.publicService, publicValues, config.dir),
          },
        }
      : {}),
    ...(strategy === 'nginx' && config.handover.listen === 'port'
      ? {
          bridge: {
            socket: renderFile('systemd/bridge@.socket', `/etc/systemd/system/${config.app}-bridge@.socket`, base, config.dir),
            service: renderFile('systemd/bridge@.service', `/etc/systemd/system/${config.app}-bridge@.service`, base, config.dir),
          },
        }
      : {}),
  };
}
