// mono agent session: the lock holder answers a deploy's requests, one JSON line each, and a failure is a reply, not an exit.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runSession } from '../../src/agent/session-loop.js';
import { agentPaths, type AgentPaths } from '../../src/agent/paths.js';
import { serveRequest, sessionContext } from '../../src/agent/session.js';
import { blobPath, type BuildRequest, type SessionReply, type SessionRequest } from '../../src/release/protocol.js';

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
  return serveRequest(sessionContext(paths, () => undefined), request as SessionRequest);
}

test('plan: the contents the store lacks, each once; a stored blob of the wrong size is deleted and counts as missing', async () => {
  const paths = newPaths();
  const have = putBlob(paths, 'have');
  const truncated = putBlob(paths, 'truncated');
  const ctx = sessionContext(paths, () => undefined);
  const request = buildRequest([{ path: 'a', content: 'have' }, { path: 'b', content: 'lack' }, { path: 'c', content: 'lack' }, { path: 'd', content: 'truncated' }]);
  // The box's copy of "truncated" lost its last byte.
  const { writeFileSync: write, chmodSync } = await import('node:fs');
  chmodSync(blobPath(paths.store, truncated, false), 0o644);
  write(blobPath(paths.store, truncated, false), 'truncate');
  assert.deepEqual(await serveRequest(ctx, { op: 'plan', request }), { ok: true, result: { missing: [sha('lack'), truncated] } });
  assert.equal(existsSync(blobPath(paths.store, truncated, false)), false);
  assert.equal(existsSync(blobPath(paths.store, have, false)), true);
  const bad = await serveRequest(ctx, { op: 'plan', request: { ...request, id: 'nope' } });
  assert.equal(!bad.ok && bad.error.code, 'USAGE');
  const unplanned = await serveRequest(sessionContext(paths, () => undefined), { op: 'build' });
  assert.match(!unplanned.ok ? unplanned.error.message : '', /"build" needs a "plan" first/);
});

test('build, audit and prune through the session; errors keep their code and hint', async () => {
  const paths = newPaths();
  putBlob(paths, 'hello');
  const ctx = sessionContext(paths, () => undefined);
  assert.deepEqual(await serveRequest(ctx, { op: 'plan', request: buildRequest([{ path: 'a.txt', content: 'hello' }]) }), { ok: true, result: { missing: [] } });
  assert.deepEqual(await serveRequest(ctx, { op: 'build' }), { ok: true, result: { id: ID, files: 1, bytes: 5, missing: [] } });
  assert.equal(readFileSync(join(paths.releases, ID, 'a.txt'), 'utf8'), 'hello');

  const other = '20261130T232001Z-1a2b3c4d';
  await serveRequest(ctx, { op: 'plan', request: buildRequest([{ path: 'b.txt', content: 'absent' }], other) });
  // Still absent at build time: nothing is built, and the answer says what is missing.
  assert.deepEqual(await serveRequest(ctx, { op: 'build' }), { ok: true, result: { id: other, files: 1, bytes: 6, missing: [sha('absent')] } });
  putBlob(paths, 'absent');
  assert.deepEqual(await serveRequest(ctx, { op: 'build' }), { ok: true, result: { id: other, files: 1, bytes: 6, missing: [] } });

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
});

test('the session serves requests in order while it holds the lock, then releases it', async () => {
  const paths = newPaths();
  const have = putBlob(paths, 'x');
  const input = new PassThrough();
  const replies: SessionReply[] = [];
  const ctx = sessionContext(paths, () => undefined);
  const done = runSession(paths, input, (r) => void replies.push(r), { serve: (request) => serveRequest(ctx, request) });
  input.write(JSON.stringify({ op: 'lock', request: { by: 'ann@laptop', from: 'laptop', operation: 'deploy', release: ID } }) + '\n');
  input.write(JSON.stringify({ op: 'plan', request: buildRequest([{ path: 'x', content: 'x' }]) }) + '\n');
  input.write(JSON.stringify({ op: 'plan', request: buildRequest([{ path: 'y', content: 'y' }]) }) + '\n');
  while (replies.length < 3) await new Promise((r) => setTimeout(r, 10));
  assert.equal(existsSync(paths.lockDir), true);
  input.write('release\n');
  await done;
  assert.equal(replies[0]!.ok && (replies[0]!.result as { locked: boolean }).locked, true);
  assert.deepEqual(replies.slice(1), [
    { ok: true, result: { missing: [] } },
    { ok: true, result: { missing: [sha('y')] } },
  ]);
  assert.equal(have, sha('x'));
  assert.equal(existsSync(paths.lockDir), false);
});
