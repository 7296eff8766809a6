// Named ports over a child process's IPC pipe (the machine and an LSA in its own OS process):
// values keep their types (structured clone), a port closed on one side closes on the other, and
// every port closes when the process goes.

import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { IpcChannels } from '../../ipc/process-channel.js';

function start(): { child: ChildProcess; channels: IpcChannels; ready: Promise<unknown> } {
  const child = fork(fileURLToPath(new URL('../fixtures/workers/ipc-echo.js', import.meta.url)), [], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const channels = new IpcChannels(child);
  return { child, channels, ready: once(channels.port('ctl'), 'message') };
}

describe('IpcChannels', () => {
  it('carries values with their types on a named port, and leaves the other ports out of it', async () => {
    const { child, channels, ready } = await start();
    await ready;
    const echo = channels.port('echo');
    const value = { n: 1n << 70n, bytes: new Uint8Array([1, 2, 3]), map: new Map([['k', [1, { x: null }]]]), when: new Date(5) };
    const back = once(echo, 'message');
    let strays = 0;
    channels.port('other').on('message', () => strays++);
    echo.postMessage(value);
    assert.deepEqual((await back)[0], value);
    assert.equal(strays, 0);
    assert.equal(channels.port('echo'), echo, 'one port object per name');
    child.kill();
    await once(child, 'exit');
  });

  it('closes a port on this side when the other side closes it, and refuses transfer lists', async () => {
    const { child, channels, ready } = await start();
    await ready;
    const echo = channels.port('echo');
    assert.throws(() => echo.postMessage({}, [new ArrayBuffer(1)]), TypeError);
    const closed = once(echo, 'close');
    channels.port('ctl').postMessage('close echo');
    await closed;
    child.kill();
    await once(child, 'exit');
  });

  it('closes every port when the process exits', async () => {
    const { child, channels, ready } = await start();
    await ready;
    const closes = [once(channels.port('echo'), 'close'), once(channels.port('ctl'), 'close')];
    channels.port('ctl').postMessage('exit');
    await Promise.all(closes);
    if (child.exitCode === null) await once(child, 'exit');
  });
});
