// The code-split agent as setup installs it: the tar it sends, the bundle it reads, and the box states it tells apart.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { activateAgent, agentState, finishAgent, unpackAgent } from '../../src/commands/agent-install.js';
import { MonoError } from '../../src/errors.js';
import { readAgentBundle } from '../../src/ops/package-files.js';
import { judgeAgentState } from '../../src/ops/setup/agent-step.js';
import { ustar } from '../../src/ops/setup/tar.js';

const repo = new URL('../..', import.meta.url).pathname;
const temp = (): string => mkdtempSync(join(tmpdir(), 'mono-agent-install-'));

test('ustar: GNU tar reads it back byte for byte, and the same files make the same archive', () => {
  const files = [
    { path: 'SHA256SUMS', content: Buffer.from('x\n') },
    { path: 'mono.mjs', content: Buffer.alloc(1300, 'a') },
    { path: 'chunks/chunk-ABC.mjs', content: Buffer.alloc(512, 'b') },
    { path: 'chunks/empty.mjs', content: Buffer.alloc(0) },
  ];
  const tar = ustar(files);
  assert.equal(tar.length % 512, 0);
  assert.deepEqual(ustar(files), tar);
  const dir = temp();
  execFileSync('tar', ['-xf', '-', '-C', dir], { input: tar });
  for (const f of files) assert.deepEqual(readFileSync(join(dir, f.path)), f.content, f.path);
  assert.equal(execFileSync('tar', ['-tvf', '-'], { input: tar, encoding: 'utf8' }).split('\n').filter((l) => l.includes('root/root')).length, files.length);
  assert.throws(() => ustar([{ path: 'x'.repeat(101), content: Buffer.alloc(0) }]), /longer than 100 bytes/);
});

test('readAgentBundle: the built agent with its id; a changed or missing file is refused before it could reach a box', () => {
  const bundle = readAgentBundle();
  assert.match(bundle.id, /^[0-9a-f]{16}$/);
  assert.equal(bundle.files[0]!.path, 'SHA256SUMS');
  assert.ok(bundle.files.some((f) => f.path === 'mono.mjs'));
  assert.ok(bundle.files.some((f) => f.path.startsWith('chunks/')), 'the agent is code-split');
  const dir = temp();
  cpSync(join(repo, 'dist', 'agent'), dir, { recursive: true });
  assert.equal(readAgentBundle(dir).id, bundle.id);
  const chunk = bundle.files.find((f) => f.path.startsWith('chunks/'))!.path;
  writeFileSync(join(dir, chunk), 'tampered');
  assert.throws(() => readAgentBundle(dir), (e: unknown) => e instanceof MonoError && e.message === `the agent bundle file ${join(dir, chunk)} is not the one SHA256SUMS lists` && e.hint === 'build it with `npm run build` (npm ci does this too)');
  writeFileSync(join(dir, 'SHA256SUMS'), `${'0'.repeat(64)}  ../etc/passwd\n`);
  assert.throws(() => readAgentBundle(dir), /has a line that is not/);
  assert.throws(() => readAgentBundle(temp()), /SHA256SUMS is missing/);
});

test('judgeAgentState: each state the box can be in gets its reason', () => {
  assert.deepEqual(judgeAgentState('ok\n'), { ok: true });
  assert.deepEqual(judgeAgentState('missing'), { ok: false, reason: 'missing' });
  assert.deepEqual(judgeAgentState('other agent-0123456789abcdef'), { ok: false, reason: 'another version is in use (agent-0123456789abcdef)' });
  assert.deepEqual(judgeAgentState('pending'), { ok: false, reason: 'an earlier run stopped before it finished switching' });
  assert.deepEqual(judgeAgentState('damaged'), { ok: false, reason: 'a file differs from its SHA256SUMS (damaged or edited)' });
  assert.deepEqual(judgeAgentState('owner'), { ok: false, reason: 'a file is not owned by root, or is writable by others' });
  assert.equal(judgeAgentState('').ok, false);
});

/** Runs a Cmd's shell script here, as the box would (these builders are plain sh; root only for chown). */
function sh(c: { argv: readonly string[]; stdin?: string | Buffer }): string {
  return execFileSync(c.argv[0]!, c.argv.slice(1), { input: c.stdin ?? '', encoding: 'utf8' });
}

test('the install scripts, run for real: unpack, switch, a damaged file noticed, older versions pruned but the previous kept', { skip: process.getuid?.() !== 0 ? 'needs root (chown root)' : false }, () => {
  const dir = temp();
  const bundle = readAgentBundle();
  const tar = ustar(bundle.files);
  assert.equal(sh(agentState(dir, bundle.id)).trim(), 'missing');
  sh(unpackAgent(dir, bundle.id, tar));
  assert.equal(sh(activateAgent(dir, bundle.id)), '\n', 'no folder was in use before');
  assert.equal(sh(agentState(dir, bundle.id)).trim(), 'pending');
  sh(finishAgent(dir, bundle.id, undefined));
  assert.equal(sh(agentState(dir, bundle.id)).trim(), 'ok');
  assert.equal(execFileSync(process.execPath, [join(dir, 'agent', 'mono.mjs'), '--version'], { encoding: 'utf8' }).trim().length > 0, true);
  const chunk = bundle.files.find((f) => f.path.startsWith('chunks/'))!.path;
  writeFileSync(join(dir, 'agent', chunk), 'tampered');
  assert.equal(sh(agentState(dir, bundle.id)).trim(), 'damaged');
  // Repaired in place (the link already pointed at this id).
  sh(unpackAgent(dir, bundle.id, tar));
  sh(activateAgent(dir, bundle.id));
  sh(finishAgent(dir, bundle.id, undefined));
  assert.equal(sh(agentState(dir, bundle.id)).trim(), 'ok');
  // Another version in use: the state names it; switching keeps it (running processes load chunks from it) and prunes older ones.
  const older = 'agent-1111111111111111';
  const previous = 'agent-2222222222222222';
  for (const v of [older, previous]) execFileSync('mkdir', ['-p', join(dir, v)]);
  execFileSync('ln', ['-sfn', previous, join(dir, 'agent')]);
  assert.equal(sh(agentState(dir, bundle.id)).trim(), `other ${previous}`);
  sh(unpackAgent(dir, bundle.id, tar));
  assert.equal(sh(activateAgent(dir, bundle.id)).trim(), previous, 'the switch names the folder in use before it');
  sh(finishAgent(dir, bundle.id, previous));
  assert.deepEqual(execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).trim().split('\n').sort(), ['agent', `agent-${bundle.id}`, previous].sort());
});
