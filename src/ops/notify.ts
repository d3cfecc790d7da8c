// `mono notify test`: the box sends one test notification to the webhook and to every ping URL it knows (mono setup
// wrote them to the box), and this says which arrived.
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import type { TestResult } from '../notify/test.js';
import { connect } from './connect.js';
import { agentCall } from './deploy/agent-call.js';
import { layoutOf } from './setup/layout.js';

export async function notifyTestCommand(ctx: Context): Promise<number> {
  const config = await ctx.config();
  const t = await connect(ctx, config, 'deploy');
  const reply = await agentCall<{ configured: boolean; results: TestResult[] }>(t, ['notify-test'], layoutOf(config).root);
  ctx.log.event('notify.test', { ...reply });
  if (!reply.configured || reply.results.length === 0) {
    throw new MonoError('USAGE', 'the box has no notification targets', { hint: 'set notifications.webhook and notifications.ping in mono.yml, then run mono setup (it writes them to the box)' });
  }
  for (const r of reply.results) ctx.log.info(r.failed === undefined ? `  delivered: ${r.target}` : `  NOT delivered: ${r.target}: ${r.failed}`);
  const failed = reply.results.filter((r) => r.failed !== undefined);
  if (failed.length > 0) throw new MonoError('REMOTE_FAILED', `${failed.length} of ${reply.results.length} test notifications were not delivered`, { hint: 'check the URLs in mono.yml (then mono setup) and that the box can reach them' });
  ctx.log.info(`all ${reply.results.length} test notifications delivered`);
  return 0;
}
