// Some commands work with or without mono.yml (mono trust HOST): load it only when it is there or required.
import { existsSync } from 'node:fs';
import type { Context } from '../cli/context.js';
import type { Config } from '../config/types.js';

export async function configOrUndefined(ctx: Context, required: boolean): Promise<Config | undefined> {
  if (!required && !existsSync(ctx.configPath)) return undefined;
  return await ctx.config();
}
