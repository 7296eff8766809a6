// Trust boundaries: a process stuck where worker.terminate() cannot reach it (a thread in a system
// call), one that closed its own control channel, one that lies in a well-formed reply, and
// restartLsa() called twice at once. None of them may make a machine call wait or fail for the others.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { establish, fixtureApp, withMachine } from '../helpers/machine.js';

const ROGUE = fixtureApp('rogue');

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`a process the machine cannot reach (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('stuck in a system call: kill() cuts it off after processTimeoutMs and the LSA reaps it', { timeout: 30_000 }, async () => {
      await withMachine({ lsaIsolation, processTimeoutMs: 300 }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const rogue = await machine.spawn('client', { name: 'rogue' });
        const marker = join(await mkdtemp(join(tmpdir(), 'sspi-emu-syscall-')), 'ended');
        await rogue.runApp(ROGUE, { attack: 'block-syscall', ms: 5_000, marker });
        await machine.kill(rogue);
        // Order, not time: kill() returned while the rogue's thread was still in its system call.
        assert.equal(existsSync(marker), false, 'kill() did not wait for the system call');
        assert.equal(rogue.alive, false, 'the machine counts it as dead');
        assert.equal(
          (await machine.lsa.stats()).perProcess.find((p) => p.name === 'rogue'),
          undefined,
          'the LSA reaped it',
        );
        assert.ok((await establish(client, server)).ok);
        await rogue.exited;
      });
    });

    it('that closed its control channel is reported by restartLsa() as unresponsive; the restart succeeds for the others', async () => {
      await withMachine({ lsaIsolation, processTimeoutMs: 300 }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const rogue = await machine.spawn('client', { name: 'rogue' });
        await assert.rejects(rogue.runApp(ROGUE, { attack: 'close-control' }), {
          code: 'PEER_GONE',
          message: /rogue \(pid \d+\) closed its control channel: it cannot be reached/,
        });
        await machine.kill(machine.lsa);
        const report = await machine.restartLsa();
        assert.deepEqual(report.unresponsive, ['rogue']);
        assert.deepEqual(report.reattached.sort(), ['client', 'server']);
        assert.ok((await establish(client, server)).ok);
      });
    });

    it('restartLsa() called twice at once boots one LSA, and both calls get its report', async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        const client = await machine.spawn('client');
        await machine.kill(machine.lsa);
        const [a, b] = await Promise.all([machine.restartLsa(), machine.restartLsa()]);
        assert.equal(a, b);
        assert.deepEqual(a.reattached, ['client']);
        assert.equal(machine.lsa.generation, 2);
        assert.equal((await machine.lsa.stats()).processes, 1);
        assert.equal((await client.stats()).name, 'client');
      });
    });
  });

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`a process that lies in a well-formed reply (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('cannot claim to be another process in its statistics', async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        const rogue = await machine.spawn('client', { name: 'rogue' });
        await rogue.runApp(ROGUE, { attack: 'lie-stats' });
        const stats = await rogue.stats();
        assert.deepEqual([stats.name, stats.pid, stats.threadId], ['rogue', rogue.pid, rogue.threadId]);
      });
    });

    it('cannot make the machine walk a map of a million counts', async () => {
      // Cloning a million keys takes the rogue and the machine seconds on a loaded machine: the
      // deadline is long, so that what is checked is the refusal, not the speed.
      await withMachine({ lsaIsolation, processTimeoutMs: 60_000 }, async (machine) => {
        const rogue = await machine.spawn('client', { name: 'rogue' });
        await rogue.runApp(ROGUE, { attack: 'lie-stats', keys: 1_000_000 });
        await assert.rejects(rogue.stats(), {
          code: 'BAD_MESSAGE',
          message: /rogue \(pid \d+\) answered GetStats with a malformed reply: userMode.spUserModeInitialize has more than 1024 entries/,
        });
      });
    });

    it('cannot monitor a name as a client process (pipe squatting by a process that is no server)', async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        const rogue = await machine.spawn('client', { name: 'rogue' });
        const result = await rogue.runApp(fixtureApp('hold-server'), { name: 'payroll' }).catch((e: unknown) => e);
        assert.match(String((result as Error).message), /rogue is a client process: only server processes monitor names/);
      });
    });
  });
