import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { incompleteBecause, LIST_SCRIPT, parseOffsiteListing, planOffsitePrune, recheckedByBox, REMOVE_SCRIPT, type OffsiteFolder } from '../../src/ops/backup/offsite-prune.js';

const policy = { hourly: 0, daily: 1, weekly: 0, monthly: 0, min_verified: 3 };
const IDS = ['20261201T050000Z', '20261201T040000Z', '20261201T030000Z', '20261201T020000Z', '20261201T010000Z'];

function manifest(db: string, id: string, files: Record<string, number> = { 'dump.zst': 100, 'globals.sql.zst': 10 }): string {
  return JSON.stringify({ version: 1, id, db, files: Object.entries(files).map(([name, bytes]) => ({ name, bytes, sha256: 'ab'.repeat(32) })) }, null, 2);
}

/** A complete offsite folder as the listing reports it (the manifest on one line). */
function complete(id: string, files: Record<string, number> = { 'dump.zst': 100, 'globals.sql.zst': 10 }): OffsiteFolder {
  const text = manifest('shopdb', id, files);
  return { db: 'shopdb', id, files: [...Object.entries(files).map(([name, bytes]) => ({ name, bytes })), { name: 'manifest.json', bytes: text.length }], manifest: text.replaceAll('\n', ' ') };
}

test('complete only when the manifest parses, names this backup and every file it lists is there with its exact size', () => {
  const id = IDS[0]!;
  assert.equal(incompleteBecause(complete(id)), undefined);
  assert.equal(incompleteBecause(complete(id, { 'dump.zst.age': 7, 'globals.sql.zst.age': 3 })), undefined, 'names come from the manifest, not a fixed list');
  const c = complete(id);
  assert.equal(incompleteBecause({ ...c, files: c.files.filter((f) => f.name !== 'dump.zst') }), 'dump.zst is missing');
  assert.equal(incompleteBecause({ ...c, files: c.files.map((f) => (f.name === 'globals.sql.zst' ? { ...f, bytes: 9 } : f)) }), 'globals.sql.zst has 9 bytes, the manifest says 10');
  assert.equal(incompleteBecause({ db: 'shopdb', id, files: [{ name: 'dump.zst', bytes: 100 }] }), 'no manifest.json');
  assert.equal(incompleteBecause({ ...c, manifest: '{"id": "2026' }), 'its manifest.json does not parse');
  assert.equal(incompleteBecause({ ...c, manifest: manifest('shopdb', IDS[1]!) }), `its manifest.json is for shopdb/${IDS[1]}`);
  assert.equal(incompleteBecause({ ...c, manifest: manifest('other', id) }), `its manifest.json is for other/${id}`);
  assert.equal(incompleteBecause({ ...c, manifest: JSON.stringify({ id, db: 'shopdb', files: [] }) }), 'its manifest.json lists no files');
  assert.equal(incompleteBecause({ ...c, manifest: 'null' }), 'its manifest.json lists no files');
  assert.equal(incompleteBecause({ ...c, manifest: JSON.stringify({ id, db: 'shopdb', files: [{ name: 'dump.zst' }] }) }), 'its manifest.json has a bad file entry');
});

test('all complete: the policy decides, the newest stays, min_verified complete backups stay', () => {
  const plan = planOffsitePrune(IDS.map((id) => complete(id)), policy);
  assert.deepEqual(plan.keep, [
    { id: IDS[0], why: ['daily 2026-12-01', 'the newest complete backup'] },
    { id: IDS[1], why: ['min_verified 3'] },
    { id: IDS[2], why: ['min_verified 3'] },
  ]);
  assert.deepEqual(plan.remove, [{ id: IDS[3] }, { id: IDS[4] }]);
  assert.deepEqual(plan.incomplete, []);
});

test('an incomplete backup never counts toward min_verified, and goes when the policy drops it anyway', () => {
  const folders = IDS.map((id) => complete(id));
  const broken = folders[1]!;
  folders[1] = { ...broken, files: broken.files.filter((f) => f.name !== 'dump.zst') };
  const plan = planOffsitePrune(folders, policy);
  // Three complete backups stay: the newest, and the two complete ones after the broken one.
  assert.deepEqual(plan.keep.map((k) => k.id), [IDS[0], IDS[2], IDS[3]]);
  assert.deepEqual(plan.remove, [{ id: IDS[1], incomplete: 'dump.zst is missing' }, { id: IDS[4] }]);
  assert.deepEqual(plan.incomplete, [{ id: IDS[1], why: 'dump.zst is missing' }]);
});

test('an incomplete backup newer than the newest complete one stays (it may still be arriving); the newest complete one stays too', () => {
  const folders = IDS.map((id) => complete(id));
  folders[0] = { db: 'shopdb', id: IDS[0]!, files: [{ name: 'dump.zst', bytes: 50 }] };
  const plan = planOffsitePrune(folders, { ...policy, min_verified: 1 });
  assert.deepEqual(plan.keep, [
    { id: IDS[0], why: ['incomplete (no manifest.json), newer than the newest complete backup: it may still be arriving'] },
    { id: IDS[1], why: ['daily 2026-12-01', 'the newest complete backup'] },
  ]);
  assert.deepEqual(plan.remove.map((r) => r.id), IDS.slice(2));
});

test('nothing complete: nothing goes', () => {
  const folders = IDS.map((id) => ({ db: 'shopdb', id, files: [{ name: 'dump.zst', bytes: 1 }] }));
  const plan = planOffsitePrune(folders, { ...policy, min_verified: 1 });
  assert.deepEqual(plan.remove, []);
  assert.equal(plan.keep.length, IDS.length);
});

test('an incomplete backup the policy keeps stays, and says it is incomplete; it does not take a complete backup\'s place', () => {
  // Two days; the newest backup of the older day is incomplete: daily 2 keeps it, and the complete one of that day too (min_verified).
  const ids = ['20261202T030000Z', '20261201T040000Z', '20261201T030000Z'];
  const folders = ids.map((id) => complete(id));
  folders[1] = { ...folders[1]!, manifest: 'garbage' };
  const plan = planOffsitePrune(folders, { hourly: 0, daily: 2, weekly: 0, monthly: 0, min_verified: 2 });
  assert.deepEqual(plan.keep, [
    { id: ids[0], why: ['daily 2026-12-02', 'the newest complete backup'] },
    { id: ids[1], why: ['daily 2026-12-01', 'incomplete: its manifest.json does not parse'] },
    { id: ids[2], why: ['daily 2026-12-01'] },
  ]);
  assert.deepEqual(plan.remove, []);
});

test('the copies the box re-checks after each run stay, whatever the policy says', () => {
  const local = [
    { id: IDS[0]!, offsiteVerifiedAt: 'x' },
    { id: IDS[1]! },
    { id: IDS[2]!, offsiteVerifiedAt: 'x' },
    { id: IDS[3]!, offsiteVerifiedAt: 'x' },
    { id: IDS[4]!, offsiteVerifiedAt: 'x' },
  ];
  const protect = recheckedByBox(local);
  assert.deepEqual([...protect.keys()], [IDS[0], IDS[2], IDS[3]]);
  const plan = planOffsitePrune(IDS.map((id) => complete(id)), { ...policy, min_verified: 1 }, protect);
  assert.deepEqual(plan.keep.map((k) => [k.id, k.why.at(-1)]), [
    [IDS[0], 'the box re-checks this copy after each backup'],
    [IDS[2], 'the box re-checks this copy after each backup'],
    [IDS[3], 'the box re-checks this copy after each backup'],
  ]);
  assert.deepEqual(plan.remove.map((r) => r.id), [IDS[1], IDS[4]]);
});

test('parses the listing: folders, file sizes, the manifest, leftovers of an interrupted prune; ignores anything else', () => {
  const out = [
    `D shopdb/${IDS[0]}`,
    'F 100 dump.zst',
    'F 10 globals.sql.zst',
    'F 300 manifest.json',
    `M ${manifest('shopdb', IDS[0]!).replaceAll('\n', ' ')}`,
    `D shopdb/.pruning-${IDS[4]}`,
    'F 100 dump.zst',
    'D shopdb/not-a-backup',
    'F 1 x',
    `D Bad-Name/${IDS[1]}`,
    `D other/${IDS[1]}`,
    'F 5 .dump.zst.tmp.123',
    'F x y',
    '',
  ].join('\n');
  const listing = parseOffsiteListing(out);
  assert.deepEqual(listing.leftovers, [{ db: 'shopdb', id: IDS[4] }]);
  assert.deepEqual(
    listing.folders.map((f) => [f.db, f.id, f.files]),
    [
      ['shopdb', IDS[0], [{ name: 'dump.zst', bytes: 100 }, { name: 'globals.sql.zst', bytes: 10 }, { name: 'manifest.json', bytes: 300 }]],
      ['other', IDS[1], [{ name: '.dump.zst.tmp.123', bytes: 5 }]],
    ],
  );
  assert.equal(incompleteBecause(listing.folders[0]!), undefined);
  assert.equal(incompleteBecause(listing.folders[1]!), 'no manifest.json');
});

test('the listing script, run by a real sh on a real folder, gives what the parser expects', () => {
  const root = mkdtempSync(join(tmpdir(), 'mono-offsite-list-'));
  const app = join(root, 'shop');
  const put = (path: string, content: string): void => {
    mkdirSync(join(app, path, '..'), { recursive: true });
    writeFileSync(join(app, path), content);
  };
  const text = manifest('shopdb', IDS[0]!, { 'dump.zst': 5, 'globals.sql.zst': 3 });
  put(`shopdb/${IDS[0]}/dump.zst`, '12345');
  put(`shopdb/${IDS[0]}/globals.sql.zst`, '123');
  put(`shopdb/${IDS[0]}/manifest.json`, text);
  put(`shopdb/${IDS[1]}/dump.zst`, '1');
  put(`shopdb/${IDS[1]}/.globals.sql.zst.tmp.42`, '12');
  put(`shopdb/${IDS[1]}/we ird`, '1');
  put(`shopdb/.pruning-${IDS[4]}/dump.zst`, '1');
  put('shopdb/last-run.json', '{}');
  const run = (dir: string): string => execFileSync('sh', ['-c', LIST_SCRIPT, 'mono', dir], { encoding: 'utf8' });
  const listing = parseOffsiteListing(run(app));
  const sorted = [...listing.folders].sort((a, b) => b.id.localeCompare(a.id)).map((f) => ({ ...f, files: [...f.files].sort((a, b) => a.name.localeCompare(b.name)) }));
  assert.deepEqual(sorted, [
    { db: 'shopdb', id: IDS[0], files: [{ name: 'dump.zst', bytes: 5 }, { name: 'globals.sql.zst', bytes: 3 }, { name: 'manifest.json', bytes: Buffer.byteLength(text) }], manifest: text.replaceAll('\n', ' ') },
    { db: 'shopdb', id: IDS[1], files: [{ name: '.globals.sql.zst.tmp.42', bytes: 2 }, { name: 'dump.zst', bytes: 1 }] },
  ]);
  assert.deepEqual(listing.leftovers, [{ db: 'shopdb', id: IDS[4] }]);
  assert.equal(incompleteBecause(sorted[0]!), undefined);
  assert.deepEqual(parseOffsiteListing(run(join(root, 'nothing-here'))), { folders: [], leftovers: [] }, 'no folder yet: an empty listing');
  // Removal renames first, then removes; a leftover .pruning- folder of the same id does not get in the way.
  put(`shopdb/.pruning-${IDS[0]}/old`, 'x');
  execFileSync('sh', ['-c', REMOVE_SCRIPT, 'mono', join(app, 'shopdb'), IDS[0]!]);
  assert.deepEqual(parseOffsiteListing(run(app)).folders.map((f) => f.id), [IDS[1]]);
});
