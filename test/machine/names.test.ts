// The table of names servers monitor, on its own: connects pair with accepts as named pipes do,
// nothing is held for a connection nobody took, and every waiting call of a process is bounded.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessagePort } from 'node:worker_threads';
import { DEFAULT_NAME_LIMITS, NameTable, type NameOwner } from '../../machine/names.js';

const owner = (name: string): NameOwner & { alive: boolean } => ({ name, alive: true });

/** Sends a message from one end and reads it on the other: the two ports are one channel. */
async function connected(a: MessagePort, b: MessagePort): Promise<void> {
  const got = new Promise<unknown>((resolve) => b.once('message', resolve));
  a.postMessage('ping');
  assert.equal(await got, 'ping');
  a.close();
  b.close();
}

describe('NameTable', () => {
  it('pairs a connect with a waiting accept, and an accept with a waiting connect', async () => {
    const names = new NameTable();
    const server = owner('server');
    const client = owner('client');
    names.listen(server, 'svc');
    const accepting = names.accept(server, 'svc');
    const clientEnd = await names.connect(client, 'svc');
    await connected(clientEnd, await accepting);
    const connecting = names.connect(client, 'svc');
    const serverEnd = await names.accept(server, 'svc');
    await connected(await connecting, serverEnd);
  });

  it('makes a connect wait for a server to monitor the name, and fails it after its wait', async () => {
    const names = new NameTable();
    const server = owner('server');
    const waiting = names.connect(owner('client'), 'later', 5_000);
    names.listen(server, 'later');
    const serverEnd = await names.accept(server, 'later');
    await connected(await waiting, serverEnd);
    await assert.rejects(names.connect(owner('client'), 'nobody', 30), { code: 'NOT_LISTENING', message: 'nothing monitors nobody (waited 30 ms)' });
  });

  it('answers a connect that no accept takes as busy, within its wait (as ERROR_PIPE_BUSY)', async () => {
    const names = new NameTable();
    names.listen(owner('server'), 'busy');
    await assert.rejects(names.connect(owner('client'), 'busy', 0), { code: 'NOT_LISTENING', message: /busy: server is not accepting/ });
    await assert.rejects(names.connect(owner('client'), 'busy', 30), { code: 'NOT_LISTENING', message: /busy: server accepted no connection within 30 ms/ });
  });

  it('refuses a second listener on a live name, and a stranger accepting on it', async () => {
    const names = new NameTable();
    const server = owner('server');
    names.listen(server, 'svc');
    assert.throws(() => names.listen(owner('squatter'), 'svc'), { code: 'ALREADY_LISTENING' });
    await assert.rejects(names.accept(owner('squatter'), 'svc'), { code: 'NOT_LISTENING' });
    server.alive = false;
    names.listen(owner('successor'), 'svc');
  });

  it('bounds the names one process monitors and the calls it has waiting', async () => {
    const names = new NameTable({ ...DEFAULT_NAME_LIMITS, namesPerProcess: 2, acceptsPerProcess: 1, connectsPerProcess: 1 });
    const server = owner('server');
    names.listen(server, 'a');
    names.listen(server, 'b');
    assert.throws(() => names.listen(server, 'c'), { code: 'QUOTA_EXCEEDED' });
    const pending = names.accept(server, 'a');
    await assert.rejects(names.accept(server, 'b'), { code: 'QUOTA_EXCEEDED' });
    const client = owner('client');
    const waiting = names.connect(client, 'nobody-yet', 5_000);
    await assert.rejects(names.connect(client, 'b', 5_000), { code: 'QUOTA_EXCEEDED' });
    names.dropOwner(server);
    await assert.rejects(pending, { code: 'NOT_LISTENING' });
    names.shutdown();
    await assert.rejects(waiting, { code: 'NOT_LISTENING' });
  });

  it('fails the waiting calls of a process that exits, on the names it monitored and on others', async () => {
    const names = new NameTable();
    const server = owner('server');
    const client = owner('client');
    names.listen(server, 'svc');
    const connecting = names.connect(client, 'svc', 5_000);
    names.dropOwner(client);
    await assert.rejects(connecting, { code: 'NOT_LISTENING' });
    const accepting = names.accept(server, 'svc');
    names.dropOwner(server);
    await assert.rejects(accepting, { code: 'NOT_LISTENING', message: 'svc is no longer monitored' });
  });
});
