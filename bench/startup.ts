// Benchmark: `mono --version` start-up against bare `node -e 0`, in the same run.
import { compare, report } from './lib.js';

const mono = new URL('../dist/cli/mono.mjs', import.meta.url).pathname;
const runs = Number(process.env['RUNS'] ?? 10);
const result = compare('startup (mono --version vs node -e 0)', [process.execPath, mono, '--version'], [process.execPath, '-e', '0'], runs);
report(result, { maxMs: 150, maxRatio: 2.5 });
