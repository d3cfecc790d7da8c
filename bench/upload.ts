// Benchmark: uploading a synthetic release of ~200 MB in ~20,000 files to the sandbox box over loopback SSH, mono beside its
// baselines in the same run (medians):
//   - first deploy: `mono deploy` (cold: empty store, cold local hash cache) vs `tar -cz | ssh box 'tar -xz'`  (target ratio <= 1.2)
//   - redeploy with one changed file: `mono deploy` (warm hash cache) vs `rsync -a --link-dest` over the same SSH
//     (targets: bytes sent <= 1% of the release, ratio <= 1.0)
//   - peak RSS of `mono deploy` for the 200 MB and the 1 GB release (must not grow with the release)
// Run as root: `npm run build && npx tsx bench/upload.ts` (RUNS=5 by default). The synthetic trees are cached in /var/tmp/mono-bench.
//
// What is timed: the whole `mono deploy` command, which also starts the new release's web process, health-checks it, switches
// `current`, retires the old instance, prunes, and runs `sync -f` twice on the box (store, release). The baselines do none of that;
// the time mono takes up to "built and verified" (its deploy.step events) is reported beside it, and so is a
// tar baseline that also runs `sync -f` on the box. Each side's leftovers on the box are removed untimed before its run.
// MONO_BIN=/path/to/dist/cli/mono.mjs measures another build (`mono setup` installs that build's agent on the box).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { homeBase, sandboxDown, sandboxUp, sshArgv, type BoxInfo } from '../src/sandbox/index.js';
import { benchWorkspace, median, report, timeOnce, type Comparison } from './lib.js';
import { RELEASE_1GB, RELEASE_200MB, syntheticRelease, type SyntheticRelease } from './synthetic-release.js';

const RUNS = Number(process.env['RUNS'] ?? 5);
const MIN_FREE_FOR_1GB = 5e9;
/** The text file that the redeploy changes (a line is appended; restored afterwards). */
const CHANGED = 12_345;
/**
 * Where the baselines write on the box. Not /tmp as one might expect: in the sandbox box /tmp is a tmpfs (RAM), while mono writes
 * to /srv/<app> on the box's disk (overlayfs on the host disk); /var/tmp is on that same disk, so both sides pay for the same disk.
 */
const BOX_TAR_DIR = '/var/tmp/bench-tar';
const BOX_RSYNC_DIR = '/var/tmp/bench-rsync';
const APP = 'bench';

/** The mono CLI to measure: this checkout's build, or another build (MONO_BIN=/path/to/dist/cli/mono.mjs). */
const MONO = process.env['MONO_BIN'] ?? new URL('../dist/cli/mono.mjs', import.meta.url).pathname;
const log = (message: string): void => void process.stderr.write(`# ${message}\n`);

const { boxName, work } = benchWorkspace('upload');

// ---------------------------------------------------------------------------------------------------------------------------
// Helpers

function q(word: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function freeBytes(path: string): number {
  const st = statfsSync(path);
  return st.bavail * st.bsize;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function s(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Runs a shell command on the box as root (untimed housekeeping); throws on failure. */
function onBox(box: BoxInfo, script: string): string {
  const [file, ...args] = sshArgv(box, [script]);
  const r = spawnSync(file!, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`on the box: ${script}\nexit ${String(r.status)}: ${r.stderr}`);
  return r.stdout;
}

/** Back to "never deployed": no instances, no releases, an empty store (the folders and their owners stay), caches flushed. */
function resetApp(box: BoxInfo): void {
  onBox(
    box,
    [
      'set -e',
      `units=$(systemctl list-units --all --plain --no-legend --no-pager '${APP}-*@*.service' | awk '{print $1}')`,
      'if [ -n "$units" ]; then systemctl disable --now --quiet $units || true; systemctl reset-failed $units 2>/dev/null || true; fi',
      `rm -rf /srv/${APP}/releases/* /srv/${APP}/.mono/store/*`,
      `rm -f /srv/${APP}/current /run/${APP}/current.sock /run/${APP}/*.sock`,
      'sync',
    ].join('\n'),
  );
}

const monoEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(work, 'home'), XDG_CACHE_HOME: join(work, 'cache'), NO_COLOR: '1' });

function dropHashCache(): void {
  rmSync(join(work, 'cache', 'mono', 'hashes'), { recursive: true, force: true });
}

interface MonoRun {
  readonly ms: number;
  readonly done: { files: number; bytes: number; sentBytes: number; sentBlobs: number; seconds: number };
  /** Milliseconds from the start of the command to each mark (see phasesOf). */
  readonly marks: Readonly<Record<string, number>>;
  readonly hashingMs: number | undefined;
  readonly maxRssKb: number | undefined;
  /** Remote commands as mono started them (--verbose), with the time they were printed. */
  readonly commands: readonly { t: number; name: string }[];
}

/** `mono deploy --json --verbose` in a project folder, timed as a whole; stdout (events) and stderr (commands) lines are timestamped as they arrive. */
function monoDeploy(project: string, options: { measureRss?: boolean } = {}): Promise<MonoRun> {
  const rssFile = join(work, 'rss.txt');
  const argv = [process.execPath, MONO, 'deploy', '--json', '--verbose'];
  const full = options.measureRss === true ? ['/usr/bin/time', '-f', '%M', '-o', rssFile, ...argv] : argv;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const lines: { t: number; text: string }[] = [];
    const child = spawn(full[0]!, full.slice(1), { cwd: project, env: monoEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (stream: NodeJS.ReadableStream): void => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const t = performance.now() - started;
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const text of parts) lines.push({ t, text });
      });
    };
    collect(child.stdout);
    collect(child.stderr);
    const timer = setTimeout(() => child.kill('SIGTERM'), 15 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      const events = lines.filter((l) => l.text.startsWith('{')).map((l) => ({ t: l.t, e: JSON.parse(l.text) as Record<string, unknown> }));
      const done = events.find((x) => x.e['type'] === 'deploy.done')?.e as MonoRun['done'] | undefined;
      if (code !== 0 || done === undefined) {
        reject(new Error(`mono deploy in ${project} exited ${String(code)}:\n${lines.map((l) => l.text).slice(-30).join('\n')}`));
        return;
      }
      const hashing = events.find((x) => x.e['type'] === 'progress' && x.e['phase'] === 'hashing' && x.e['done'] === true)?.e['ms'];
      const rss = options.measureRss === true ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) : undefined;
      const commands = lines.filter((l) => / \$ /.test(l.text) && !l.text.startsWith('{')).map((l) => ({ t: l.t, name: shortCommand(l.text) }));
      resolve({ ms, done, marks: marksOf(lines, ms), hashingMs: typeof hashing === 'number' ? hashing : undefined, maxRssKb: rss, commands });
    });
  });
}

/** When mono reached each step: its `deploy.step` events (--json), and "connecting to" from --verbose. */
function marksOf(lines: readonly { t: number; text: string }[], end: number): Record<string, number> {
  const marks: Record<string, number> = { end };
  const connecting = lines.find((l) => /^connecting to /.test(l.text))?.t;
  if (connecting !== undefined) marks['connecting'] = connecting;
  for (const l of lines) {
    if (!l.text.startsWith('{')) continue;
    const e = JSON.parse(l.text) as { type?: unknown; step?: unknown };
    if (e.type === 'deploy.step' && typeof e.step === 'string') marks[e.step] = l.t;
  }
  return marks;
}

/** Median durations of mono's steps over several runs. */
function phases(runs: readonly MonoRun[]): string {
  const between = (from: string, to: string): number | undefined => {
    const values = runs.map((r) => (r.marks[to] ?? NaN) - (from === 'start' ? 0 : (r.marks[from] ?? NaN))).filter((v) => Number.isFinite(v));
    return values.length === 0 ? undefined : median(values);
  };
  const hashing = runs.map((r) => r.hashingMs).filter((v): v is number => v !== undefined);
  const parts: [string, number | undefined][] = [
    ['start, scan and hash (connecting meanwhile)', between('start', 'prepared')],
    ['(of which hashing', hashing.length > 0 ? median(hashing) : undefined],
    ['lock, agent version', between('prepared', 'locked')],
    ['which blobs are missing, upload incl. sync -f', between('locked', 'sent')],
    ['release build (links, verify, sync -f)', between('sent', 'built')],
    ['audit, start, health check, switch, retire', between('built', 'activated')],
    ['audit, prune, exit', between('activated', 'end')],
  ];
  return parts
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (k.startsWith('(') ? `${k} ${s(v!)})` : `${k} ${s(v!)}`))
    .join(', ');
}

/** The remote commands of one run with how long each took until the next began (the last one until mono exited). */
function timeline(run: MonoRun): string {
  const steps = run.commands.map((c, i) => ({ name: c.name, ms: (run.commands[i + 1]?.t ?? run.ms) - c.t }));
  const start = run.commands[0]?.t ?? run.ms;
  return [`local start-up, scan, hash ${s(start)}`, ...steps.map((x) => `${x.name} ${s(x.ms)}`)].join(' → ');
}

function shortCommand(line: string): string {
  const argv = line.slice(line.indexOf(' $ ') + 3);
  const agent = /mono agent ([a-z-]+)/.exec(argv);
  if (agent !== null) return `agent ${agent[1]!}`;
  if (argv.includes('mono --version')) return 'agent --version';
  const helper = /priv-[a-z0-9_-]+ ([a-z-]+) ([a-z0-9_-]+)/.exec(argv);
  if (helper !== null) return `${helper[1]!} ${helper[2]!}`;
  if (argv.includes('curl ')) return 'health check';
  if (argv.includes('current.sock.mono-tmp')) return 'switch';
  if (argv.startsWith('systemctl list-units')) return 'list units';
  return argv.slice(0, 30);
}

function projectDir(box: BoxInfo, name: string, source: string, extraRelease = ''): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Procfile'), 'web: node server.js\n');
  writeFileSync(
    join(dir, 'mono.yml'),
    `app: ${APP}\nhost: root@127.0.0.1:${box.sshPort}\nssh:\n  identity: ${box.keyFile}\n  known_hosts: ${box.knownHostsFile}\n  connect_timeout: 5s\nnginx:\n  listen: 127.0.0.1:${box.httpPort}\nhealth:\n  timeout: 20s\nrelease:\n  source: ${source}\n${extraRelease}`,
  );
  return dir;
}

function sshCommandLine(box: BoxInfo, remote: string): string {
  return sshArgv(box, [remote]).map(q).join(' ');
}

/** `ssh …` without the destination, for rsync -e. */
function rsyncShell(box: BoxInfo): string {
  return sshArgv(box).slice(0, -1).join(' ');
}

function rsyncTimed(box: BoxInfo, src: string, dest: string, extra: readonly string[] = []): { ms: number; sent: number } {
  const args = ['-a', '--stats', ...extra, `${src}/`, `root@127.0.0.1:${dest}/`, '-e', rsyncShell(box)];
  const started = process.hrtime.bigint();
  const r = spawnSync('rsync', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`rsync exited ${String(r.status)}: ${r.stderr.slice(-500)}`);
  const m = /Total bytes sent: ([\d,.]+)/.exec(r.stdout);
  return { ms, sent: m === null ? NaN : Number(m[1]!.replace(/[,.]/g, '')) };
}

function medianRun(runs: readonly MonoRun[]): MonoRun {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function comparison(name: string, subject: readonly number[], baseline: readonly number[]): Comparison {
  const subjectMs = median(subject);
  const baselineMs = median(baseline);
  return { name, subjectMs, baselineMs, ratio: subjectMs / baselineMs, runs: subject.length };
}

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}

// ---------------------------------------------------------------------------------------------------------------------------
// The run

const benchStarted = performance.now();
const rel = syntheticRelease(RELEASE_200MB, log);
rel.restoreText(CHANGED);
process.on('exit', () => {
  try {
    rel.restoreText(CHANGED);
  } catch {
    // best effort: the next run restores it too
  }
});
log(`release: ${rel.files.toLocaleString('en-US')} files, ${mb(rel.bytes)} in ${rel.dir}${rel.generated ? ` (generated in ${rel.seconds.toFixed(1)} s)` : ' (cached)'}`);

const freeLocal = freeBytes(rel.dir);
const freeBox = freeBytes(homeBase());
let big: SyntheticRelease | undefined;
let bigSkipped: string | undefined;
if (Math.min(freeLocal, freeBox) < MIN_FREE_FOR_1GB) {
  bigSkipped = `skipped the 1 GB release: only ${mb(Math.min(freeLocal, freeBox))} free (need 5 GB for the tree and the box)`;
  log(bigSkipped);
} else {
  big = syntheticRelease(RELEASE_1GB, log);
  log(`1 GB release: ${big.files.toLocaleString('en-US')} files, ${mb(big.bytes)} in ${big.dir}${big.generated ? ` (generated in ${big.seconds.toFixed(1)} s)` : ' (cached)'}`);
}

log(`booting sandbox box ${boxName}…`);
const box = await sandboxUp({ name: boxName, kind: 'app' });
const results: string[] = [];
const summary: string[] = [];
try {
  mkdirSync(join(work, 'home'), { recursive: true });
  const project = projectDir(box, 'project', rel.dir);
  const projectPlain = projectDir(box, 'project-nogzip', rel.dir, '  compress: false\n');
  const setup = spawnSync(process.execPath, [MONO, 'setup'], { cwd: project, env: monoEnv(), encoding: 'utf8' });
  if (setup.status !== 0) throw new Error(`mono setup failed:\n${setup.stderr}`);
  onBox(box, `mkdir -p ${BOX_RSYNC_DIR}`);

  // 1. First deploy vs tar | ssh tar, alternating, one warm-up each.
  const tarLine = (sync: boolean): string =>
    `tar -C ${q(rel.dir)} -cz . | ${sshCommandLine(box, `rm -rf ${BOX_TAR_DIR} && mkdir ${BOX_TAR_DIR} && tar -C ${BOX_TAR_DIR} -xz${sync ? ` && sync -f ${BOX_TAR_DIR}` : ''}`)}`;
  const tarRun = (sync: boolean): number => {
    onBox(box, `rm -rf ${BOX_TAR_DIR}; sync`); // the removal is not the baseline's work: do it untimed
    return timeOnce(['sh', '-c', tarLine(sync)]);
  };
  const coldMono = async (dir: string, options: { measureRss?: boolean } = {}): Promise<MonoRun> => {
    resetApp(box);
    dropHashCache();
    return monoDeploy(dir, options);
  };
  log(`first deploy: warm-up, then ${RUNS} runs of mono / tar / tar+sync alternately`);
  try {
    await coldMono(project);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const message = text.split('\n').find((l) => l.startsWith('error: '))?.slice('error: '.length) ?? text.split('\n')[0] ?? '';
    process.stdout.write(`first deploy of ${mb(rel.bytes)} in ${rel.files.toLocaleString('en-US')} files: mono deploy FAILED (${message}); nothing else can be measured\n`);
    if (message.includes('no readable answer to "store-missing"')) {
      process.stdout.write(
        '  cause: the agent on the box prints the list of missing blobs (~67 bytes each) as one JSON line, then src/cli/main.ts calls process.exit();\n' +
          '  stdout is a pipe to sshd, so everything past the 64 KiB pipe buffer is dropped and the reply is cut. Any first deploy with more than ~970 new blobs fails.\n',
      );
    }
    process.exitCode = 1;
    throw error;
  }
  tarRun(false);
  const firstMono: MonoRun[] = [];
  const firstTar: number[] = [];
  const firstTarSync: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    firstMono.push(await coldMono(project));
    firstTar.push(tarRun(false));
    firstTarSync.push(tarRun(true));
    log(`  run ${i + 1}: mono ${s(firstMono.at(-1)!.ms)}, tar ${s(firstTar.at(-1)!)}, tar+sync ${s(firstTarSync.at(-1)!)}`);
  }
  const first = comparison(`first deploy, ${mb(rel.bytes)} in ${rel.files.toLocaleString('en-US')} files (mono deploy vs tar cz | ssh tar xz)`, firstMono.map((r) => r.ms), firstTar);
  const firstOk = report(first, { maxRatio: 1.2 });
  const builtMs = median(firstMono.map((r) => r.marks['built'] ?? NaN));
  const tarSyncMs = median(firstTarSync);
  results.push(
    `  mono up to "built and verified": ${builtMs.toFixed(0)} ms (ratio ${(builtMs / first.baselineMs).toFixed(2)} vs tar); tar + sync -f on the box: ${tarSyncMs.toFixed(0)} ms (mono ratio ${(first.subjectMs / tarSyncMs).toFixed(2)})`,
    `  mono steps (medians): ${phases(firstMono)}`,
    `  mono sent ${mb(median(firstMono.map((r) => r.done.sentBytes)))} on the wire (gzip -1) in ${median(firstMono.map((r) => r.done.sentBlobs))} blobs`,
    `  timeline of the median run: ${timeline(medianRun(firstMono))}`,
  );
  for (const line of results.splice(0)) process.stdout.write(`${line}\n`);

  log('first deploy with release.compress: false (1 run)');
  const plain = await coldMono(projectPlain);
  process.stdout.write(
    `  mono first deploy with release.compress: false: ${plain.ms.toFixed(0)} ms (ratio ${(plain.ms / first.baselineMs).toFixed(2)} vs tar; 1 run), sent ${mb(plain.done.sentBytes)}; steps: ${phases([plain])}\n`,
  );

  // 2. Redeploy with one changed file vs rsync --link-dest. The hash cache is warm (the last cold deploy saved it).
  log('redeploy: preparing the rsync baseline (full copy to prev)');
  onBox(box, `rm -rf ${BOX_RSYNC_DIR}/prev ${BOX_RSYNC_DIR}/next; sync`);
  const rsyncFull = rsyncTimed(box, rel.dir, `${BOX_RSYNC_DIR}/prev`);
  const changedPath = join(rel.dir, rel.textPath(CHANGED));
  const rsyncRedeploy = (): { ms: number; sent: number } => {
    onBox(box, `rm -rf ${BOX_RSYNC_DIR}/next; sync`);
    return rsyncTimed(box, rel.dir, `${BOX_RSYNC_DIR}/next`, [`--link-dest=${BOX_RSYNC_DIR}/prev`]);
  };
  log(`redeploy: warm-up, then ${RUNS} runs of mono / rsync alternately (one file changed before each pair)`);
  appendFileSync(changedPath, 'changed warm-up\n');
  await monoDeploy(project);
  rsyncRedeploy();
  const reMono: MonoRun[] = [];
  const reRsync: { ms: number; sent: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    appendFileSync(changedPath, `changed ${i}\n`);
    reMono.push(await monoDeploy(project));
    reRsync.push(rsyncRedeploy());
    log(`  run ${i + 1}: mono ${s(reMono.at(-1)!.ms)} (sent ${reMono.at(-1)!.done.sentBytes} B), rsync ${s(reRsync.at(-1)!.ms)} (sent ${reRsync.at(-1)!.sent} B)`);
  }
  const re = comparison('redeploy, one file changed (mono deploy vs rsync -a --link-dest over ssh)', reMono.map((r) => r.ms), reRsync.map((r) => r.ms));
  const reOk = report(re, { maxRatio: 1.0 });
  const sentMono = median(reMono.map((r) => r.done.sentBytes));
  const sentRsync = median(reRsync.map((r) => r.sent));
  const sentPct = (sentMono * 100) / rel.bytes;
  const bytesOk = sentPct <= 1;
  process.stdout.write(
    `redeploy bytes sent: mono ${sentMono.toLocaleString('en-US')} B = ${sentPct.toFixed(4)} % of the release (target <= 1 %) ${verdict(bytesOk)}; rsync ${sentRsync.toLocaleString('en-US')} B\n`,
  );
  const reBuiltMs = median(reMono.map((r) => r.marks['built'] ?? NaN));
  process.stdout.write(`  mono up to "built and verified": ${reBuiltMs.toFixed(0)} ms (ratio ${(reBuiltMs / re.baselineMs).toFixed(2)} vs rsync); the rest is start, health check, switch, retire and prune\n`);
  process.stdout.write(`  mono steps (medians): ${phases(reMono)}\n`);
  process.stdout.write(`  timeline of the median run: ${timeline(medianRun(reMono))}\n`);
  process.stdout.write(`  (for reference: the full rsync -a of the release to an empty folder took ${rsyncFull.ms.toFixed(0)} ms, ${mb(rsyncFull.sent)} sent)\n`);

  // 3. Peak memory: one cold deploy of each release size under /usr/bin/time.
  log('peak memory: cold deploy of the 200 MB release under /usr/bin/time');
  const rss200 = await coldMono(project, { measureRss: true });
  let rss1g: MonoRun | undefined;
  if (big !== undefined) {
    log('peak memory: cold deploy of the 1 GB release under /usr/bin/time');
    const projectBig = projectDir(box, 'project-1g', big.dir);
    rss1g = await coldMono(projectBig, { measureRss: true });
    resetApp(box);
  }
  const rssMb = (r: MonoRun): number => (r.maxRssKb ?? NaN) / 1024;
  const growth = rss1g === undefined ? undefined : rssMb(rss1g) / rssMb(rss200);
  const memOk = growth === undefined ? undefined : growth <= 1.25;
  process.stdout.write(
    `peak RSS of mono deploy (cold): ${mb(rel.bytes)} release ${rssMb(rss200).toFixed(0)} MB (${s(rss200.ms)})` +
      (rss1g === undefined || big === undefined
        ? `; ${bigSkipped ?? '1 GB release skipped'}\n`
        : `, ${mb(big.bytes)} release ${rssMb(rss1g).toFixed(0)} MB (${s(rss1g.ms)}); ×${growth!.toFixed(2)} for ×${(big.bytes / rel.bytes).toFixed(1)} the data (target: not growing, <= ×1.25) ${verdict(memOk!)}\n`),
  );
  if (rss1g !== undefined) process.stdout.write(`  1 GB cold deploy steps: ${phases([rss1g])}\n`);

  // 4. A block for the README.
  summary.push(
    '',
    `| benchmark (${mb(rel.bytes)}, ${rel.files.toLocaleString('en-US')} files; median of ${RUNS}) | mono | baseline | ratio | target | met |`,
    '|---|---|---|---|---|---|',
    `| first deploy vs \`tar cz \\| ssh box 'tar xz'\` | ${s(first.subjectMs)} (built and verified at ${s(builtMs)}) | ${s(first.baselineMs)} | ${first.ratio.toFixed(2)} | ≤ 1.2 | ${firstOk ? 'yes' : 'no'} |`,
    `| redeploy, one file changed, vs \`rsync -a --link-dest\` over ssh | ${s(re.subjectMs)} (built and verified at ${s(reBuiltMs)}) | ${s(re.baselineMs)} | ${re.ratio.toFixed(2)} | ≤ 1.0 | ${reOk ? 'yes' : 'no'} |`,
    `| redeploy: bytes sent | ${sentMono.toLocaleString('en-US')} B (${sentPct.toFixed(3)} % of the release) | rsync ${sentRsync.toLocaleString('en-US')} B | | ≤ 1 % | ${bytesOk ? 'yes' : 'no'} |`,
    rss1g === undefined || big === undefined
      ? `| peak RSS of \`mono deploy\` | ${rssMb(rss200).toFixed(0)} MB (200 MB release) | | | flat | 1 GB skipped |`
      : `| peak RSS of \`mono deploy\`, ${mb(rel.bytes)} → ${mb(big.bytes)} release | ${rssMb(rss200).toFixed(0)} MB → ${rssMb(rss1g).toFixed(0)} MB | | ×${growth!.toFixed(2)} | flat (≤ ×1.25) | ${memOk! ? 'yes' : 'no'} |`,
    '',
    `Reproduce (root): \`npm run build && RUNS=${RUNS} npx tsx bench/upload.ts\` (${((performance.now() - benchStarted) / 60_000).toFixed(1)} min on this machine; the synthetic trees are cached in /var/tmp/mono-bench).`,
    ...(process.env['MONO_BIN'] === undefined ? [] : [`Measured with MONO_BIN=${MONO}, not this checkout's dist/.`]),
  );
  process.stdout.write(`${summary.join('\n')}\n`);
} finally {
  await sandboxDown(boxName);
}
