// The maintenance jobs mono cron runs on the box, by name (mono.yml's schedules.<job>, notifications.ping.<job>).
export const JOB_NAMES = ['backup', 'restore_test', 'prune_releases', 'prune_backups', 'disk', 'tls', 'health', 'stale_lock'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}
