// `mono agent notify-test`: the box sends a test notification to every target in its notify.json; one JSON line back.
import type { Context } from '../cli/context.js';
import { notifyPath, readNotifySettings } from '../notify/settings.js';
import { sendTests } from '../notify/test.js';
import { agentHandler } from './handler.js';
import { agentPaths, requireRoot } from './paths.js';

export const notifyTestHandler = agentHandler('notify-test', async (ctx: Context, o: { root?: string }) => {
  const settings = readNotifySettings(notifyPath(agentPaths(requireRoot(o.root)).monoDir), (m) => ctx.log.warn(m));
  ctx.log.data(JSON.stringify({ configured: settings !== undefined, results: settings === undefined ? [] : await sendTests(settings) }));
});
