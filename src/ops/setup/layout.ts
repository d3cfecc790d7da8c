// Where everything lives on the box (DESIGN.md §3), derived from the config in one place.
import type { Config } from '../../config/types.js';

export const NGINX_GROUP = 'www-data';
export const AGENT_DIR = '/usr/local/lib/mono';
/** The agent in use: <AGENT_DIR>/agent is a symlink to agent-<id>, a folder with mono.mjs and its chunks. */
export const AGENT_BUNDLE = `${AGENT_DIR}/agent/mono.mjs`;
/** Where mono before 0.1 kept the agent as one file; removed once the wrapper points at the folder. */
export const LEGACY_AGENT_BUNDLE = `${AGENT_DIR}/mono.mjs`;
export const AGENT_BIN = '/usr/local/bin/mono';
export const STAGING_DIR = '/var/lib/mono/staging';

export interface Layout {
  readonly root: string;
  readonly releases: string;
  readonly shared: string;
  readonly envFile: string;
  readonly monoDir: string;
  readonly store: string;
  readonly handover: string;
  readonly instances: string;
  readonly auditLog: string;
  readonly sshDir: string;
  readonly authorizedKeys: string;
  readonly runDir: string;
  readonly backups: string;
  readonly privHelper: string;
  readonly sudoers: string;
  readonly tmpfiles: string;
  readonly nginxSite: string;
  readonly nginxSiteLink: string;
  readonly nginxIncludeDir: string;
  readonly nginxProxy: string;
  readonly staging: string;
  readonly currentUnit: string;
  readonly currentUnitName: string;
  readonly cronUnit: string;
  readonly cronUnitName: string;
  readonly cronSpec: string;
  /** handover.strategy: socket: the public listening socket and the service a socket unit needs. */
  readonly publicSocket: string;
  readonly publicSocketName: string;
  readonly publicService: string;
  unit(process: string): string;
}

export function layoutOf(config: Pick<Config, 'app' | 'root' | 'backups'>): Layout {
  const { app, root } = config;
  return {
    root,
    releases: `${root}/releases`,
    shared: `${root}/shared`,
    envFile: `${root}/shared/.env`,
    monoDir: `${root}/.mono`,
    store: `${root}/.mono/store`,
    handover: `${root}/.mono/handover`,
    instances: `${root}/.mono/instances`,
    auditLog: `${root}/.mono/audit.log`,
    sshDir: `${root}/.ssh`,
    authorizedKeys: `${root}/.ssh/authorized_keys`,
    runDir: `/run/${app}`,
    backups: config.backups.dir,
    privHelper: `${AGENT_DIR}/priv-${app}`,
    sudoers: `/etc/sudoers.d/mono-${app}`,
    tmpfiles: `/etc/tmpfiles.d/mono-${app}.conf`,
    nginxSite: `/etc/nginx/sites-available/${app}.conf`,
    nginxSiteLink: `/etc/nginx/sites-enabled/${app}.conf`,
    nginxIncludeDir: `/etc/nginx/mono/${app}`,
    nginxProxy: `/etc/nginx/mono/${app}/proxy.conf`,
    staging: `${STAGING_DIR}/${app}`,
    currentUnit: `/etc/systemd/system/${app}-current.service`,
    currentUnitName: `${app}-current.service`,
    cronUnit: `/etc/systemd/system/${app}-cron.service`,
    cronUnitName: `${app}-cron.service`,
    cronSpec: `${root}/.mono/cron.json`,
    publicSocket: `/etc/systemd/system/${app}-public.socket`,
    publicSocketName: `${app}-public.socket`,
    publicService: `/etc/systemd/system/${app}-public.service`,
    unit: (process: string) => `/etc/systemd/system/${app}-${process}@.service`,
  };
}
