import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { fingerprint, keyTypeOf, knownHostsLine, parseKnownHosts, patternsMatch, verifyHostKey } from '../../src/ssh/known-hosts.js';
import { hostKeyAlgorithms } from '../../src/ssh/host-keys.js';
import { knownHostsName, parseTarget } from '../../src/ssh/target.js';

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}
const KEY = blob('ssh-ed25519', 'key-one');
const OTHER = blob('ssh-ed25519', 'key-two');

test('targets parse with default port, explicit port and IPv6', () => {
  assert.deepEqual(parseTarget('root@box.example.com'), { user: 'root', host: 'box.example.com', port: 22 });
  assert.deepEqual(parseTarget('deploy@127.0.0.1:2222'), { user: 'deploy', host: '127.0.0.1', port: 2222 });
  assert.deepEqual(parseTarget('root@[::1]:22'), { user: 'root', host: '::1', port: 22 });
  assert.equal(parseTarget('box.example.com'), 'expected user@host[:port], the user is missing');
  assert.equal(parseTarget('root@box:99999'), '"99999" is not a port between 1 and 65535');
  assert.equal(parseTarget('root@bad host'), '"bad host" is not a valid host name or IPv4 address');
  assert.equal(knownHostsName({ host: 'box', port: 22 }), 'box');
  assert.equal(knownHostsName({ host: '127.0.0.1', port: 2222 }), '[127.0.0.1]:2222');
});

test('patterns: lists, wildcards, negation and hashed names', () => {
  assert.ok(patternsMatch('a.example.com,b.example.com', 'b.example.com'));
  assert.ok(patternsMatch('*.example.com', 'x.example.com'));
  assert.ok(!patternsMatch('*.example.com,!bad.example.com', 'bad.example.com'));
  assert.ok(patternsMatch('[127.0.0.1]:2222', '[127.0.0.1]:2222'));
  assert.ok(!patternsMatch('[127.0.0.1]:2222', '127.0.0.1'));
  const salt = Buffer.from('0123456789abcdef0123');
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[127.0.0.1]:2222').digest('base64')}`;
  assert.ok(patternsMatch(hashed, '[127.0.0.1]:2222'));
  assert.ok(!patternsMatch(hashed, '[127.0.0.1]:2223'));
});

test('verdicts: trusted, unknown, changed, revoked', () => {
  const entries = parseKnownHosts(`# comment\n${knownHostsLine('[h]:2222', KEY)}\n@revoked * ssh-rsa ${blob('ssh-rsa', 'bad').toString('base64')}\n`, 'kh');
  assert.equal(verifyHostKey(entries, '[h]:2222', KEY).kind, 'trusted');
  assert.equal(verifyHostKey(entries, '[h]:2222', OTHER).kind, 'changed');
  assert.equal(verifyHostKey(entries, '[other]:2222', KEY).kind, 'unknown');
  assert.equal(verifyHostKey(entries, '[h]:2222', blob('ssh-rsa', 'bad')).kind, 'revoked');
});

test('fingerprints and key types match OpenSSH conventions', () => {
  assert.equal(keyTypeOf(KEY), 'ssh-ed25519');
  assert.match(fingerprint(KEY), /^SHA256:[A-Za-z0-9+/]{43}$/);
});

test('pinned key types are offered first', () => {
  const entries = parseKnownHosts(`[h]:22 ssh-rsa AAAA\n`, 'kh');
  assert.deepEqual(hostKeyAlgorithms(entries, '[h]:22').slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  assert.equal(hostKeyAlgorithms([], 'x')[0], 'ssh-ed25519');
});
