// The session's "handover" request: record the spec, start the runner as a transient systemd unit (through the privileged
// helper, which runs it as the app user), and hand it the deploy lock, so that the lock lives as long as the runner needs it
// and not as long as the SSH connection.
import { mkdirSync } from 'node:fs';
import { probe } from '../../commands/cmd.js';
import { MonoError } from '../../errors.js';
import { handoverUnit, type HandoverSpec } from '../../handover/spec.js';
import { priv } from '../../handover/units.js';
import { LocalTransport } from '../../transport/local.js';
import type { Transport } from '../../transport/transport.js';
import { transferLock } from '../lock.js';
import type { AgentPaths } from '../paths.js';
import { writeSpec } from './journal.js';

export interface StartedHandover {
  readonly id: string;
  readonly unit: string;
  readonly pid: number;
}

export async function startHandover(paths: AgentPaths, token: string, spec: HandoverSpec, t: Transport = new LocalTransport()): Promise<StartedHandover> {
  if (spec.root !== paths.root) throw new MonoError('USAGE', `the handover is for ${spec.root}, this session serves ${paths.root}`);
  const dir = `${paths.monoDir}/handover`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeSpec(dir, spec, token);
  const unit = handoverUnit(spec.app, spec.id);
  await t.run(priv(spec.helper, 'handover', spec.id));
  const pid = Number((await t.run(probe(['systemctl', 'show', '-P', 'MainPID', '--', unit]))).stdout.trim());
  // pid 0: the runner has already finished (it released the lock itself).
  if (pid > 0) transferLock(paths, token, pid);
  return { id: spec.id, unit, pid };
}
