// mono agent releases and prune: listing order, current and units; what prune keeps; store GC; refusing on unreadable manifests.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { prune } from '../../src/agent/prune.js';
import { buildRelease } from '../../src/agent/release-build.js';
import { listReleases } from '../../src/agent/releases.js';
import { parseUnits, type UnitLister } from '../../src/agent/units.js';
import { blobPath, type BuildRequest, type ManifestFile } from '../../src/release/protocol.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const ids = ['20261101T000000Z-aaaaaaaa', '20261102T000000Z-bbbbbbbb', '20261103T000000Z-cccccccc', '20261104T000000Z-dddddddd'] as const;
const noUnits: UnitLister = async () => [];

function newRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'mono-agent-prune-'));
  for (const dir of ['releases', 'shared', '.mono/store']) mkdirSync(join(root, dir), { recursive: true });
  return root;
}

function blob(root: string, content: string, executable = false): ManifestFile {
  const hash = sha(content);
  const path = blobPath(join(root, '.mono/store'), hash, false);
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) writeFileSync(path, content, { mode: 0o444 });
  return { path: `f-${hash.slice(0, 8)}`, size: Buffer.byteLength(content), executable, sha256: hash };
}

async function release(root: string, id: string, contents: readonly string[], executable = false): Promise<void> {
  const files = contents.map((c) => blob(root, c, executable));
  const req: BuildRequest = {
    id,
    manifest: { version: 1, dirs: [], files, links: [] },
    meta: { id, createdAt: '2026-11-01T00:00:00.000Z', by: 'ann@laptop', source: '.', manifestSha256: 'f'.repeat(64), files: files.length, bytes: 1000 + files.length },
    processes: { web: 'run' },
    shared: [],
  };
  await buildRelease(root, req);
}

/** Four releases: 1 {a, old}, 2 {a, two}, 3 {a, three}, 4 {a, four}; current -> 2. */
async function fourReleases(): Promise<string> {
  const root = newRoot();
  await release(root, ids[0], ['a', 'old'], true);
  await release(root, ids[1], ['a', 'two']);
  await release(root, ids[2], ['a', 'three']);
  await release(root, ids[3], ['a', 'four']);
  symlinkSync(`releases/${ids[1]}`, join(root, 'current'));
  mkdirSync(join(root, 'releases', 'junk.partial'));
  return root;
}

const stored = (root: string, content: string): boolean => existsSync(blobPath(join(root, '.mono/store'), sha(content), false));

test('releases lists newest first with meta, current and live units; *.partial is ignored', async () => {
  const root = await fourReleases();
  const units: UnitLister = async (app) => {
    assert.equal(app, 'shop');
    return [{ unit: `shop-worker@${ids[0]}.service`, release: ids[0], state: 'deactivating' }];
  };
  const list = await listReleases(root, { app: 'shop', units });
  assert.deepEqual(list.map((r) => [r.id, r.current, r.bytes, r.units]), [
    [ids[3], false, 1002, []],
    [ids[2], false, 1002, []],
    [ids[1], true, 1002, []],
    [ids[0], false, 1002, [{ unit: `shop-worker@${ids[0]}.service`, state: 'deactivating' }]],
  ]);
  assert.equal(list[0]!.meta?.by, 'ann@laptop');
  // The process types each release has scripts for (rollback starts those).
  assert.deepEqual(list[0]!.processes, ['web']);
});

test('releases without readable metadata still list (no meta, 0 bytes)', async () => {
  const root = newRoot();
  mkdirSync(join(root, 'releases', ids[0]));
  assert.deepEqual(await listReleases(root), [{ id: ids[0], current: false, units: [], bytes: 0, processes: [] }]);
});

test('systemctl list-units output: only the app, only live states', () => {
  const out = [
    `shop-web@${ids[3]}.service      loaded active     running  shop web`,
    `shop-worker@${ids[2]}.service   loaded activating start    shop worker`,
    `shop-web@${ids[1]}.service      loaded inactive   dead     shop web`,
    `shop-web@${ids[0]}.service      loaded failed     failed   shop web`,
    `other-web@${ids[0]}.service     loaded active     running  other`,
    '',
  ].join('\n');
  assert.deepEqual(parseUnits('shop', out), [
    { unit: `shop-web@${ids[3]}.service`, release: ids[3], state: 'active' },
    { unit: `shop-worker@${ids[2]}.service`, release: ids[2], state: 'activating' },
  ]);
});

test('prune keeps the newest N, the current one and any with live units; removes the rest and their unused blobs', async () => {
  const root = await fourReleases();
  for (const id of ids) mkdirSync(join(root, '.mono/instances', id, 'web'), { recursive: true });
  const result = await prune(root, { keep: 1, app: 'shop', dryRun: false, units: noUnits });
  assert.deepEqual(readdirSync(join(root, '.mono/instances')).sort(), [ids[1], ids[3]], 'control folders go with their releases');
  assert.deepEqual(result, {
    removedReleases: [ids[2], ids[0]],
    keptReleases: [ids[3], ids[1]],
    removedBlobs: 4, // "three", "old", and the .x variants of "old" and "a" (no kept release runs them)
    freedBytes: 5 + 3 + 3 + 1,
    dryRun: false,
  });
  assert.deepEqual(readdirSync(join(root, 'releases')).sort(), [ids[1], ids[3], 'junk.partial']);
  for (const kept of ['a', 'two', 'four']) assert.equal(stored(root, kept), true, kept);
  for (const gone of ['three', 'old']) assert.equal(stored(root, gone), false, gone);
  assert.equal(existsSync(blobPath(join(root, '.mono/store'), sha('old'), true)), false);
  assert.equal(existsSync(blobPath(join(root, '.mono/store'), sha('a'), true)), false);
});

test('a release whose units still run is kept however old', async () => {
  const root = await fourReleases();
  const units: UnitLister = async () => [{ unit: `shop-web@${ids[0]}.service`, release: ids[0], state: 'active' }];
  const result = await prune(root, { keep: 1, app: 'shop', dryRun: false, units });
  assert.deepEqual(result.keptReleases, [ids[3], ids[1], ids[0]]);
  assert.deepEqual(result.removedReleases, [ids[2]]);
  assert.equal(stored(root, 'old'), true);
  assert.equal(existsSync(blobPath(join(root, '.mono/store'), sha('a'), true)), true, 'the .x variant a kept release links to stays');
});

test('--dry-run removes nothing but reports what would go', async () => {
  const root = await fourReleases();
  const before = readdirSync(join(root, 'releases')).sort();
  const result = await prune(root, { keep: 1, app: 'shop', dryRun: true, units: noUnits });
  assert.deepEqual(result, { removedReleases: [ids[2], ids[0]], keptReleases: [ids[3], ids[1]], removedBlobs: 4, freedBytes: 12, dryRun: true });
  assert.deepEqual(readdirSync(join(root, 'releases')).sort(), before);
  assert.equal(stored(root, 'three'), true);
});

test('an unreadable manifest of a kept release stops prune before anything is deleted', async () => {
  const root = await fourReleases();
  const manifest = join(root, 'releases', ids[3], '.mono', 'manifest.json');
  chmodSync(dirname(manifest), 0o755);
  unlinkSync(manifest);
  await assert.rejects(prune(root, { keep: 1, app: 'shop', dryRun: false, units: noUnits }), (error: Error) => {
    assert.match(error.message, new RegExp(`^prune refused: the manifest of kept release ${ids[3]} cannot be read \\(ENOENT: no such file or directory, open '.*manifest\\.json'\\); nothing was deleted$`));
    return true;
  });
  assert.equal(readdirSync(join(root, 'releases')).length, 5);
  for (const c of ['a', 'old', 'two', 'three', 'four']) assert.equal(stored(root, c), true, c);
});

test('garbage collection also clears old partial files and partial releases, and keeps the fan-out folders', async () => {
  const root = await fourReleases();
  const incoming = join(root, '.mono/store/.incoming');
  mkdirSync(incoming, { recursive: true });
  writeFileSync(join(incoming, 'old.partial'), 'x');
  writeFileSync(join(incoming, 'new.partial'), 'x');
  const old = new Date(Date.now() - 2 * 3600_000);
  utimesSync(join(incoming, 'old.partial'), old, old);
  utimesSync(join(root, 'releases', 'junk.partial'), old, old);
  await prune(root, { keep: 0, app: 'shop', dryRun: false, units: noUnits });
  assert.deepEqual(readdirSync(incoming), ['new.partial']);
  assert.deepEqual(readdirSync(join(root, 'releases')), [ids[1]]);
  assert.equal(existsSync(dirname(blobPath(join(root, '.mono/store'), sha('four'), false))), true);
});
