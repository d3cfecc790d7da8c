import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withChannelRetry } from '../../src/transport/ssh.js';

test('a refused channel (sshd MaxSessions) is opened again; any other error is not retried', async () => {
  let calls = 0;
  const value = await withChannelRetry(async () => {
    calls++;
    if (calls < 3) throw new Error('(SSH) Channel open failure: open failed');
    return 'ran';
  }, 1);
  assert.deepEqual([value, calls], ['ran', 3]);

  let other = 0;
  await assert.rejects(
    withChannelRetry(async () => {
      other++;
      throw new Error('No response from server');
    }, 1),
    /No response from server/,
  );
  assert.equal(other, 1);

  let always = 0;
  await assert.rejects(
    withChannelRetry(async () => {
      always++;
      throw new Error('(SSH) Channel open failure: open failed');
    }, 1),
    /Channel open failure/,
  );
  assert.equal(always, 6, 'gives up after a bounded number of tries');
});
