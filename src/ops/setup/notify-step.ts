// The box's own copy of the notification settings (<root>/.mono/notify.json, 0600), so jobs run there (cron too) can alert by themselves.
import type { Config } from '../../config/types.js';
import { notifyPath, notifySettingsJson } from '../../notify/settings.js';
import type { Step } from '../../plan/step.js';
import { managedFileStep } from './managed-file.js';

/** Always written (empty when nothing is configured), so removing the URLs from mono.yml also stops the alerts. */
export function notifySettingsStep(config: Pick<Config, 'app' | 'user' | 'notifications'>, monoDir: string, stagingDir: string): Step {
  const { webhook, ping } = config.notifications;
  const what = [...(webhook === undefined ? [] : ['webhook']), ...Object.keys(ping).map((job) => `${job} ping`)];
  // The content holds secret URLs: it travels on stdin, and the step's description, reason and dry-run lines never show it.
  return managedFileStep({
    id: 'notify-settings',
    describe: `notification settings ${notifyPath(monoDir)} (0600: ${what.length === 0 ? 'none configured' : what.join(', ')})`,
    path: notifyPath(monoDir),
    content: notifySettingsJson(config),
    mode: '0600',
    owner: config.user,
    group: config.user,
    stagingDir,
  });
}
