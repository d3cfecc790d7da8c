// mono agent lock: a session holds it until stdin ends or says release; contention, stale holders, release by token or by force.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runSession } from '../../src/agent/session-loop.js';
import { lockStatus, releaseIfOurs, releaseLock, takeLock, transferLock } from '../../src/agent/lock.js';
import { agentPaths, type AgentPaths } from '../../src/agent/paths.js';
import type { LockInfo, LockReply, SessionReply } from '../../src/release/protocol.js';

const request = { by: 'ann@laptop', from: '10.0.0.5', operation: 'deploy', release: '20261130T232000Z-1a2b3c4d' };

function newPaths(): AgentPaths {
  const root = mkdtempSync(join(tmpdir(), 'mono-agent-lock-'));
  mkdirSync(join(root, '.mono'));
  return agentPaths(root);
}

/** A pid that surely no longer runs: a child that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync('true');
  assert.equal(typeof r.pid, 'number');
  return r.pid;
}

/** A session that asks for the lock; `replied` is the answer to that request. */
function startHold(paths: AgentPaths): { input: PassThrough; replied: Promise<LockReply>; done: Promise<void> } {
  const input = new PassThrough();
  let resolveReply!: (r: LockReply) => void;
  const replied = new Promise<LockReply>((resolve) => (resolveReply = resolve));
  const send = (reply: SessionReply): void => resolveReply(reply.ok ? (reply.result as LockReply) : assert.fail(JSON.stringify(reply)));
  const done = runSession(paths, input, send, { pid: process.pid, serve: () => assert.fail('no other request was sent') });
  input.write(JSON.stringify({ op: 'lock', request }) + '\n');
  return { input, replied, done };
}

test('hold takes the lock (mkdir 0700 + info.json with a token and our pid) and releases it when stdin ends', async () => {
  const paths = newPaths();
  const { input, replied, done } = startHold(paths);
  const reply = await replied;
  assert.equal(reply.locked, true);
  const info = (reply as { info: LockInfo }).info;
  assert.deepEqual({ ...info, since: 'x', token: 'x' }, { ...request, since: 'x', token: 'x', pid: process.pid });
  assert.match(info.token, /^[0-9a-f]{32}$/);
  assert.equal(statSync(paths.lockDir).mode & 0o777, 0o700);
  assert.deepEqual(JSON.parse(readFileSync(paths.lockInfo, 'utf8')), info);

  const other = await takeLock(paths, { by: 'bob@ci', from: 'ci', operation: 'deploy' });
  assert.deepEqual(other, { locked: false, holder: info, stale: false });
  assert.deepEqual(await lockStatus(paths), { locked: true, holder: info, stale: false });

  input.end();
  await done;
  assert.equal(existsSync(paths.lockDir), false);
  assert.deepEqual(await lockStatus(paths), { locked: false });
});

test('a "release" line ends the hold even while stdin stays open', async () => {
  const paths = newPaths();
  const { input, replied, done } = startHold(paths);
  assert.equal((await replied).locked, true);
  input.write('release\n');
  await done;
  assert.equal(existsSync(paths.lockDir), false);
});

test('a hold whose lock was forced away and retaken leaves the new holder alone', async () => {
  const paths = newPaths();
  const { input, replied, done } = startHold(paths);
  assert.equal((await replied).locked, true);
  assert.equal((await releaseLock(paths, { force: true })).released, true);
  const next = await takeLock(paths, { by: 'bob@ci', from: 'ci', operation: 'deploy' });
  assert.equal(next.locked, true);
  input.end();
  await done;
  assert.deepEqual(await lockStatus(paths), { locked: true, holder: (next as { info: LockInfo }).info, stale: false });
});

test('a holder whose pid is gone is reported stale; a lock without a pid never is', async () => {
  const paths = newPaths();
  mkdirSync(paths.lockDir);
  const holder: LockInfo = { by: 'ann@laptop', from: '10.0.0.5', since: '2026-11-30T23:20:00.000Z', operation: 'deploy', token: 't1', pid: deadPid() };
  writeFileSync(paths.lockInfo, JSON.stringify(holder));
  assert.deepEqual(await takeLock(paths, request, { pid: process.pid }), { locked: false, holder, stale: true });
  assert.deepEqual(await lockStatus(paths), { locked: true, holder, stale: true });

  const manual: LockInfo = { by: 'ann@laptop', from: '10.0.0.5', since: '2026-11-30T23:20:00.000Z', operation: 'maintenance', message: 'db upgrade', token: 't2' };
  writeFileSync(paths.lockInfo, JSON.stringify(manual));
  assert.deepEqual(await lockStatus(paths), { locked: true, holder: manual, stale: false });
});

test('acquire takes a lock without a pid, which stays until released with its token', async () => {
  const paths = newPaths();
  const reply = await takeLock(paths, { ...request, operation: 'maintenance', message: 'hands off' });
  assert.equal(reply.locked, true);
  const info = (reply as { info: LockInfo }).info;
  assert.equal(info.pid, undefined);
  assert.equal(info.message, 'hands off');

  assert.deepEqual(await releaseLock(paths, {}), {
    released: false,
    holder: info,
    reason: `held by ann@laptop from 10.0.0.5 (maintenance) since ${info.since}; pass --token to release your own lock, or --force`,
  });
  assert.deepEqual(await releaseLock(paths, { token: 'wrong' }), {
    released: false,
    holder: info,
    reason: `the token does not match the holder's: held by ann@laptop from 10.0.0.5 (maintenance) since ${info.since}`,
  });
  assert.equal(existsSync(paths.lockDir), true);
  assert.deepEqual(await releaseLock(paths, { token: info.token }), { released: true, holder: info });
  assert.equal(existsSync(paths.lockDir), false);
  assert.deepEqual(await releaseLock(paths, { token: info.token }), { released: false, reason: 'not locked' });
});

test('--force releases whoever holds it', async () => {
  const paths = newPaths();
  const info = ((await takeLock(paths, request)) as { info: LockInfo }).info;
  assert.deepEqual(await releaseLock(paths, { force: true }), { released: true, holder: info });
  assert.equal(existsSync(paths.lockDir), false);
});

test('a lock folder whose info.json never appears has an unknown holder (after the wait)', async () => {
  const paths = newPaths();
  mkdirSync(paths.lockDir);
  const started = Date.now();
  const reply = await takeLock(paths, request, { waitMs: 300 });
  assert.ok(Date.now() - started >= 300);
  assert.deepEqual(reply, {
    locked: false,
    holder: { by: 'unknown', from: 'unknown', since: statSync(paths.lockDir).mtime.toISOString(), operation: 'unknown', token: '' },
    stale: false,
  });
});

test('info.json written shortly after the mkdir is waited for', async () => {
  const paths = newPaths();
  mkdirSync(paths.lockDir);
  const holder: LockInfo = { by: 'bob@ci', from: 'ci', since: '2026-11-30T23:20:00.000Z', operation: 'deploy', token: 'tok', pid: process.pid };
  setTimeout(() => writeFileSync(paths.lockInfo, JSON.stringify(holder)), 150);
  assert.deepEqual(await takeLock(paths, request), { locked: false, holder, stale: false });
});

test('a bad lock request is a usage error reply, and ends the session without a lock', async () => {
  const paths = newPaths();
  const input = new PassThrough();
  const replies: SessionReply[] = [];
  input.write('{"op": "lock", "request": {"by": "ann"}}\n');
  await runSession(paths, input, (r) => void replies.push(r), { serve: () => assert.fail('not reached') });
  assert.equal(replies.length, 1);
  assert.equal(replies[0]!.ok, false);
  assert.match(!replies[0]!.ok ? replies[0]!.error.message : '', /the lock request's "from" must be a non-empty string/);
  assert.equal(existsSync(paths.lockDir), false);
});

test('every request but "lock" needs the lock; a line that is not JSON gets an error reply', async () => {
  const paths = newPaths();
  const input = new PassThrough();
  const replies: SessionReply[] = [];
  const done = runSession(paths, input, (r) => void replies.push(r), { serve: () => assert.fail('nothing is served without the lock') });
  input.end('{"op":"plan","request":{}}\nnot json\n');
  await done;
  assert.equal(replies.length, 2);
  assert.match(!replies[0]!.ok ? replies[0]!.error.message : '', /"plan" needs the deploy lock: send "lock" first/);
  assert.equal(!replies[1]!.ok && replies[1]!.error.code, 'USAGE');
});

test('a held lock is handed to the handover runner: same token, its pid; the old holder dying no longer makes it stale', async () => {
  const paths = newPaths();
  const taken = await takeLock(paths, request, { pid: deadPid() });
  assert.ok(taken.locked);
  assert.equal(transferLock(paths, 'not-the-token', process.pid), false);
  assert.equal(transferLock(paths, taken.info.token, process.pid), true);
  const status = await lockStatus(paths);
  assert.ok(status.locked);
  assert.deepEqual([status.holder.pid, status.holder.token, status.stale], [process.pid, taken.info.token, false]);
  assert.equal(releaseIfOurs(paths, taken.info.token), true, 'the runner releases it with the same token');
  assert.equal(transferLock(paths, taken.info.token, process.pid), false, 'nothing to hand over once released');
});
