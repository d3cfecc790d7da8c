// Wraps an agent verb's handler so that a raw filesystem error reaches the CLI as a typed MonoError, not as "internal error".
import type { Context } from '../cli/context.js';
import { isMonoError, MonoError } from '../errors.js';
import { errnoCode, errorMessage } from './fs-errors.js';

export type AgentHandler<O> = (ctx: Context, options: O) => Promise<number | void>;

export function agentHandler<O>(verb: string, fn: AgentHandler<O>): AgentHandler<O> {
  return async (ctx, options) => {
    try {
      return await fn(ctx, options);
    } catch (error) {
      if (isMonoError(error) || errnoCode(error) === undefined) throw error;
      throw new MonoError('LOCAL_FAILED', `mono agent ${verb} failed on the box: ${errorMessage(error)}`, { cause: error });
    }
  };
}
