// mono agent session: the lock holder answers a deploy's requests, one JSON line each, and a failure is a reply, not an exit.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { holdLock } from '../../src/agent/lock-hold.js';
import { agentPaths, type AgentPaths } from '../../src/agent/paths.js';
import { serveRequest, sessionContext } from '../../src/agent/session.js';
import { blobPath, type BuildRequest, type SessionReply } from '../../src/release/protocol.js';

const ID = '20261130T232000Z-1a2b3c4d';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function newPaths(): AgentPaths {
  const root = mkdtempSync(join(tmpdir(), 'mono-agent-session-'));
  for (const dir of ['releases', 'shared', '.mono/store']) mkdirSync(join(root, dir), { recursive: true });
  return agentPaths(root);
}

function putBlob(paths: AgentPaths, content: string): string {
  const hash = sha(content);
  const path = blobPath(paths.store, hash, false);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode: 0o444 });
  return hash;
}

function buildRequest(files: { path: string; content: string }[], id = ID): BuildRequest {
  const manifestFiles = files.map((f) => ({ path: f.path, size: Buffer.byteLength(f.content), executable: false, sha256: sha(f.content) }));
  return {
    id,
    manifest: { version: 1, files: manifestFiles, dirs: [], links: [] },
    meta: { id, createdAt: '2026-11-30T23:20:00.000Z', by: 'ann@laptop', source: '/src', manifestSha256: 'f'.repeat(64), files: files.length, bytes: 0 },
    processes: {},
    shared: [],
  };
}

async function ask(paths: AgentPaths, request: unknown): Promise<SessionReply> {
  return serveRequest(sessionContext(paths, () => undefined), typeof request === 'string' ? request : JSON.stringify(request));
}

test('missing: the hashes the store lacks, each once; a malformed pair is a usage error reply', async () => {
  const paths = newPaths();
  const have = putBlob(paths, 'have');
  const lack = sha('lack');
  assert.deepEqual(await ask(paths, { op: 'missing', blobs: [[have, 4], [lack, 4], [lack, 4]] }), { ok: true, result: { missing: [lack] } });
  // A stored blob of another size than its content's is truncated: missing, and deleted so that no release links it.
  assert.deepEqual(await ask(paths, { op: 'missing', blobs: [[have, 5]] }), { ok: true, result: { missing: [have] } });
  assert.equal(existsSync(blobPath(paths.store, have, false)), false);
  const bad = await ask(paths, { op: 'missing', blobs: [['nothex', 1]] });
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.error.code, 'USAGE');
  assert.match(!bad.ok ? bad.error.message : '', /blob 1 is not \[sha256, size\]/);
});

test('build, audit and prune through the session; errors keep their code and hint', async () => {
  const paths = newPaths();
  putBlob(paths, 'hello');
  const built = await ask(paths, { op: 'build', request: buildRequest([{ path: 'a.txt', content: 'hello' }]) });
  assert.deepEqual(built, { ok: true, result: { id: ID, files: 1, bytes: 5, missing: [] } });
  assert.equal(readFileSync(join(paths.releases, ID, 'a.txt'), 'utf8'), 'hello');

  const lacking = await ask(paths, { op: 'build', request: buildRequest([{ path: 'b.txt', content: 'absent' }], '20261130T232001Z-1a2b3c4d') });
  assert.deepEqual(lacking, { ok: true, result: { id: '20261130T232001Z-1a2b3c4d', files: 1, bytes: 6, missing: [sha('absent')] } });

  const audited = await ask(paths, { op: 'audit', entry: { action: 'release', by: 'ann@laptop' } });
  assert.equal(audited.ok, true);
  const line = JSON.parse(readFileSync(paths.auditLog, 'utf8').trim()) as Record<string, unknown>;
  assert.equal(line['action'], 'release');
  assert.match(String(line['time']), /^\d{4}-\d\d-\d\dT/);

  const pruned = await ask(paths, { op: 'prune', keep: 0, app: 'shop' });
  assert.equal(pruned.ok, true, JSON.stringify(pruned));

  const badPrune = await ask(paths, { op: 'prune', keep: 1, app: 'Bad App' });
  assert.deepEqual(badPrune.ok ? undefined : badPrune.error.code, 'USAGE');
  const unknown = await ask(paths, { op: 'explode' });
  assert.equal(unknown.ok, false);
  assert.match(!unknown.ok ? `${unknown.error.message} ${unknown.error.hint}` : '', /unknown session request "explode".*mono setup/);
  const notJson = await ask(paths, 'not json');
  assert.equal(!notJson.ok && notJson.error.code, 'USAGE');
});

test('the lock holder serves requests in order while it holds the lock, then releases it', async () => {
  const paths = newPaths();
  const have = putBlob(paths, 'x');
  const input = new PassThrough();
  const replies: string[] = [];
  let locked!: () => void;
  const gotLock = new Promise<void>((resolve) => (locked = resolve));
  const done = holdLock(paths, input, (reply) => (reply.locked ? locked() : undefined), {
    serve: async (line) => void replies.push(JSON.stringify(await serveRequest(sessionContext(paths, () => undefined), line))),
  });
  input.write(JSON.stringify({ by: 'ann@laptop', from: 'laptop', operation: 'deploy', release: ID }) + '\n');
  await gotLock;
  assert.equal(existsSync(paths.lockDir), true);
  input.write(JSON.stringify({ op: 'missing', blobs: [[have, 1]] }) + '\n');
  input.write(JSON.stringify({ op: 'missing', blobs: [[sha('y'), 1]] }) + '\n');
  input.write('release\n');
  await done;
  assert.deepEqual(replies.map((r) => JSON.parse(r) as unknown), [
    { ok: true, result: { missing: [] } },
    { ok: true, result: { missing: [sha('y')] } },
  ]);
  assert.equal(existsSync(paths.lockDir), false);
});
