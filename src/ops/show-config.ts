// `mono config`: validates mono.yml and prints the resolved config, secrets as [redacted].
import { stringify } from 'yaml';
import type { Context } from '../cli/context.js';
import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/types.js';

/** A plain-data view of the config: Secrets serialise as [redacted], durations are shown readably. */
export function printable(config: Config): unknown {
  const plain = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  return JSON.parse(JSON.stringify(plain, (key, value: unknown) => (typeof value === 'number' && key.endsWith('Ms') ? formatDuration(value) : value)));
}

export async function showConfigCommand(ctx: Context): Promise<number> {
  const config = await ctx.config();
  const view = printable(config);
  if (ctx.options.json) ctx.log.data(JSON.stringify({ type: 'config', config: view }));
  else ctx.log.data(stringify(view));
  ctx.log.info(ctx.log.colors.green(`${config.file} is valid`));
  return 0;
}
