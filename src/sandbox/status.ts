// Lists boxes from the sandbox home with what is true right now: nspawn alive, overlay mounted, sshd answering.
import { isMounted } from './mounts.js';
import { boxPaths } from './paths.js';
import { checkPrerequisites } from './prereq.js';
import { findNspawnPids } from './proc.js';
import { sshdAnswers } from './ssh.js';
import { listBoxNames, readStateFile, toInfo, type BoxInfo } from './state.js';

export interface BoxStatus {
  readonly name: string;
  readonly dir: string;
  /** Undefined for a box that never finished starting (its state.json is missing). */
  readonly info: BoxInfo | undefined;
  readonly createdAt: string | undefined;
  /** Its systemd-nspawn is running. */
  readonly alive: boolean;
  readonly mounted: boolean;
  /** Something answers with an SSH banner on its port. */
  readonly sshd: boolean;
}

export async function sandboxStatus(): Promise<BoxStatus[]> {
  checkPrerequisites();
  return Promise.all(
    listBoxNames().map(async (name): Promise<BoxStatus> => {
      const paths = boxPaths(name);
      const state = readStateFile(paths.stateFile);
      const alive = findNspawnPids(paths.root).length > 0;
      return {
        name,
        dir: paths.dir,
        info: state === undefined || state.pid <= 0 ? undefined : toInfo(state),
        createdAt: state?.createdAt,
        alive,
        mounted: isMounted(paths.root),
        sshd: alive && state !== undefined ? await sshdAnswers(state.sshPort) : false,
      };
    }),
  );
}
