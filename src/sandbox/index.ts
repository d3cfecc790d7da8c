// Local Debian 12 boxes with real systemd under systemd-nspawn, for trying mono and for end-to-end tests.
export { checkPrerequisites } from './prereq.js';
export { sandboxUp, type SandboxUpOptions } from './up.js';
export { cancelUp, sandboxDown, sandboxDownAll, sandboxDownSync } from './down.js';
export { sandboxStatus, type BoxStatus } from './status.js';
export { isBoxRunning, listBoxNames, readBox, type BoxInfo } from './state.js';
export type { BoxKind } from './configure.js';
export { sshArgv, type SshTarget } from './ssh.js';
export { cacheKey, RECIPE, PACKAGES, SUITE, RECIPE_VERSION, type Recipe } from './recipe.js';
export { ensureRootfs } from './rootfs.js';
export { boxPaths, cacheBase, homeBase } from './paths.js';
