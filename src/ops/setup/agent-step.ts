// The `agent` setup step: the code-split mono agent in <AGENT_DIR>/agent-<id>, checked file by file, switched in by
// one symlink rename once the box's Node.js has started it.
import { activateAgent, agentState, finishAgent, removeStagedAgent, stagedAgentVersion, unpackAgent } from '../../commands/agent-install.js';
import type { Cmd } from '../../commands/cmd.js';
import { MonoError } from '../../errors.js';
import { needs, ok, type CheckResult, type Step } from '../../plan/step.js';
import type { AgentBundle } from '../package-files.js';
import { checkOutputTail } from './managed-file.js';
import { ustar } from './tar.js';

export interface AgentStepInputs {
  readonly dir: string;
  readonly bundle: AgentBundle;
  readonly version: string;
  /** Runs once the new agent is in use (restart mono cron, which runs the agent's code). */
  readonly afterChange: readonly Cmd[];
}

export function judgeAgentState(output: string): CheckResult {
  const word = output.trim();
  if (word === 'ok') return ok;
  if (word === 'missing') return needs('missing');
  if (word.startsWith('other ')) return needs(`another version is in use (${word.slice('other '.length)})`);
  if (word === 'pending') return needs('an earlier run stopped before it finished switching');
  if (word === 'owner') return needs('a file is not owned by root, or is writable by others');
  if (word === 'damaged') return needs('a file differs from its SHA256SUMS (damaged or edited)');
  return needs(`unexpected state: ${word.slice(0, 80)}`);
}

export function agentStep(i: AgentStepInputs): Step {
  const { dir, bundle } = i;
  return {
    id: 'agent',
    describe: `mono agent ${i.version} (${dir}/agent-${bundle.id}, ${bundle.files.length} files)`,
    async check(t) {
      return judgeAgentState((await t.run(agentState(dir, bundle.id))).stdout);
    },
    async apply(t) {
      await t.run(unpackAgent(dir, bundle.id, ustar(bundle.files)));
      try {
        await t.run(stagedAgentVersion(dir, bundle.id));
      } catch (error) {
        await t.run(removeStagedAgent(dir, bundle.id));
        throw new MonoError('CHECK_FAILED', `the box's Node.js cannot start the new mono agent; the one in use was kept`, {
          hint: 'the agent needs Node.js >= 18 on the box: check `node --version` there, and reinstall mono locally',
          details: checkOutputTail(error),
        });
      }
      // It names the folder that was in use before the switch: that one is kept for processes started earlier.
      const previous = (await t.run(activateAgent(dir, bundle.id))).stdout.trim();
      for (const c of i.afterChange) await t.run(c);
      await t.run(finishAgent(dir, bundle.id, previous === '' ? undefined : previous));
    },
  };
}
