// The machine itself: it refuses to boot with a clear reason when the LSA cannot start, refuses to
// spawn a process as an account the LSA does not know, and rejects calls on a process that is gone
// instead of waiting on it.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Machine } from '../../machine/machine.js';
import { status } from '../helpers/calls.js';
import { withMachine } from '../helpers/machine.js';

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`the machine (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('rejects control calls to a dead process with PEER_GONE instead of hanging', async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        const client = await machine.spawn('client');
        await machine.kill(client);
        await assert.rejects(client.stats(), { name: 'TransportError', code: 'PEER_GONE' });
        await assert.rejects(client.sspi.enumerateSecurityPackages(), { code: 'PEER_GONE' });
      });
    });

    it('refuses to spawn a process as an account the LSA does not know', async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        await assert.rejects(machine.spawn('client', { logonAs: 'mallory' }), { name: 'SspiEmuError', code: 'SPAWN_FAILED', message: /no account "mallory"/ });
        const ok = await machine.spawn('client');
        assert.equal(status(await ok.sspi.enumerateSecurityPackages()), 'SEC_E_OK');
      });
    });

    it('fails to boot with a clear reason when the LSA cannot start', async () => {
      await assert.rejects(Machine.boot({ accounts: ['no-colon'] }), /USER:PASSWORD/);
    });
  });

/** Whether a process has exited: gone, or a zombie its new parent has not reaped yet (it runs nothing). */
function exited(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
}

describe('an LSA in its own OS process (lsaIsolation: "process")', () => {
  it('runs in another OS process, reached on a socket in a directory only this user can enter, removed when it exits', async () => {
    const machine = await Machine.boot({ lsaIsolation: 'process', trace: false });
    let socket: string;
    try {
      assert.equal(machine.lsa.isolation, 'process');
      assert.notEqual(machine.lsa.osPid, process.pid);
      socket = machine.lsa.lpcSocket!;
      assert.equal(statSync(dirname(socket)).mode & 0o777, 0o700);
      assert.ok(statSync(socket).isSocket());
      const client = await machine.spawn('client');
      assert.equal(status(await client.sspi.enumerateSecurityPackages()), 'SEC_E_OK');
      await machine.kill(machine.lsa);
      assert.equal(existsSync(dirname(socket)), false, 'the socket went with the LSA');
      await machine.restartLsa();
      assert.notEqual(machine.lsa.lpcSocket, socket, 'a new LSA, a new socket');
      assert.equal(status(await client.sspi.enumerateSecurityPackages()), 'SEC_E_OK');
      socket = machine.lsa.lpcSocket!;
    } finally {
      await machine.shutdown();
    }
    assert.equal(existsSync(dirname(socket)), false);
  });

  it('leaves nothing of a process that failed to spawn: no process, no connection waited for', async () => {
    await withMachine({ lsaIsolation: 'process' }, async (machine) => {
      await assert.rejects(machine.spawn('client', { logonAs: 'mallory' }), { code: 'SPAWN_FAILED' });
      const stats = await machine.lsa.stats();
      assert.equal(stats.processes, 0);
      assert.equal(stats.logonSessions, 0);
      assert.equal(stats.lpcListener?.accepted, 1, 'the process connected, and was refused its logon');
    });
  });

  it("goes away with the machine's OS process, taking its socket's directory with it", async () => {
    // The LSA's process inherits the machine's stdout: the pipe closes only once both have exited.
    const machine = spawn(process.execPath, [fileURLToPath(new URL('../fixtures/workers/exit-with-process-lsa.js', import.meta.url))], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    machine.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await once(machine.stdout, 'close');
    const [pid, socket] = out.trim().split(' ') as [string, string];
    assert.ok(exited(Number(pid)), 'the LSA process is gone');
    assert.equal(existsSync(dirname(socket)), false);
  });

  it('refuses an isolation it does not know', async () => {
    await assert.rejects(Machine.boot({ lsaIsolation: 'vm' as 'process' }), { code: 'BAD_OPTION', message: /lsaIsolation must be "thread" or "process"/ });
  });
});
