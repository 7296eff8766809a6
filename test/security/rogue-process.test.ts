// A rogue application module runs in an app process and uses every port its worker has, as any
// code in a process can: comlink on each of them, hostile values, forged trace entries, forged
// replies to the LSA's calls. The machine, the LSA and the other processes must be unharmed, and
// a fresh handshake must still work afterwards. (Trust boundaries, findings 1 to 3.)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { Machine } from '../../machine/machine.js';
import { establish, fixtureApp, withMachine } from '../helpers/machine.js';

const ROGUE = fixtureApp('rogue');

/** After the attack: the LSA answers, a fresh client and server authenticate and seal, the trace flushes. */
async function machineStillWorks(machine: Machine): Promise<void> {
  assert.ok(machine.lsa.alive, 'the LSA is alive');
  await machine.lsa.stats();
  await machine.events();
  const server = await machine.spawn('server', { name: `server-after-${Date.now()}` });
  const client = await machine.spawn('client', { name: `client-after-${Date.now()}` });
  const done = await establish(client, server);
  assert.ok(done.ok, `a fresh handshake: ${JSON.stringify(done.steps)}`);
  const sealed = await client.sspi.encryptMessage(
    done.clientContext!,
    0,
    [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(64) },
      { BufferType: SECBUFFER.DATA, pvBuffer: new Uint8Array([1, 2, 3]) },
    ],
    0,
  );
  assert.equal(statusName((await server.sspi.decryptMessage(done.serverContext!, sealed.message, 0)).status), 'SEC_E_OK');
}

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`a rogue process (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('cannot reach the main thread or the LSA through comlink on any of its ports: no port answers', async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        const rogue = await machine.spawn('client', { name: 'rogue' });
        const result = await rogue.runApp(ROGUE, { attack: 'control-escape' });
        const answers = result.data?.answers as Record<string, string>;
        // Four tries on each port: control, trace, and LPC when it is a port (a socket carries no comlink).
        assert.ok(Object.keys(answers).length >= (lsaIsolation === 'thread' ? 12 : 8), 'every port was tried');
        for (const [attempt, answer] of Object.entries(answers)) assert.equal(answer, 'no answer', attempt);
        assert.equal((globalThis as { __sspiEmuPwned?: unknown }).__sspiEmuPwned, undefined, 'no code of the rogue ran in the main thread');
        assert.ok(rogue.refusedControlMessages > 0, 'the comlink messages reached the machine and were refused');
        await machineStillWorks(machine);
      });
    });

    for (const trace of [true, false]) {
      it(`posts hostile values on every port and changes nothing (trace ${trace ? 'on' : 'off'}, tap on)`, async () => {
        await withMachine({ lsaIsolation, trace }, async (machine) => {
          machine.tap(true);
          const server = await machine.spawn('server');
          const victim = await machine.spawn('client', { name: 'victim' });
          const before = await establish(victim, server);
          assert.ok(before.ok);
          const rogue = await machine.spawn('client', { name: 'rogue' });
          // Among the garbage is a forged reply to the machine's first call on the channel, RunApp
          // itself: the machine takes it as the process's answer, finds it malformed, and says so.
          await assert.rejects(rogue.runApp(ROGUE, { attack: 'garbage' }), {
            name: 'TransportError',
            code: 'BAD_MESSAGE',
            message: /rogue \(pid \d+\) answered RunApp with a malformed reply/,
          });
          // Each port is FIFO: these calls are answered after the garbage that came before them.
          await machine.events();
          assert.equal((await rogue.stats()).name, 'rogue', 'the rogue still answers its control channel');
          assert.equal(statusName(((await rogue.lpcCall('EnumerateSecurityPackages', {})) as { status: number }).status), 'SEC_E_OK');
          const mine = (await machine.lsa.stats()).perProcess.find((p) => p.name === 'rogue');
          assert.ok(mine !== undefined && mine.refused > 0, 'the LSA refused what was not LPC');
          assert.ok(rogue.refusedControlMessages > 0, 'the machine refused what was not control');
          const problems = machine.trace.problems().find((p) => p.name === 'rogue');
          assert.ok(problems !== undefined && problems.malformed > 0, 'the trace collector refused what was not trace');
          const names = await victim.sspi.queryContextAttributes(before.clientContext!, 1 /* SECPKG_ATTR_NAMES */);
          assert.equal(statusName(names.status), 'SEC_E_OK', "the victim's context is untouched");
          await machineStillWorks(machine);
        });
      });
    }

    it('posts frames in the LPC wire format that lie, and the LSA drops each one and answers its next call', async () => {
      await withMachine({ lsaIsolation, trace: false }, async (machine) => {
        const rogue = await machine.spawn('client', { name: 'rogue' });
        const result = await rogue.runApp(ROGUE, { attack: 'frame-garbage' });
        const posted = Number(result.data?.posted);
        assert.ok(posted > 20);
        // The port is FIFO: this call is answered after every lying frame was read.
        assert.equal(statusName(((await rogue.lpcCall('EnumerateSecurityPackages', {})) as { status: number }).status), 'SEC_E_OK');
        const mine = (await machine.lsa.stats()).perProcess.find((p) => p.name === 'rogue');
        // The empty frame (a real one cut at 0 bytes) holds no message; every other frame is refused.
        assert.equal(mine?.refused, posted - 1, 'every lying frame was refused, and nothing else');
        await machineStillWorks(machine);
      });
    });

    it('is cut off when one frame holds more values than any calls need (a decoding bomb), and the others carry on', async () => {
      await withMachine({ lsaIsolation, trace: false }, async (machine) => {
        const server = await machine.spawn('server');
        const victim = await machine.spawn('client', { name: 'victim' });
        const before = await establish(victim, server);
        assert.ok(before.ok);
        const rogue = await machine.spawn('client', { name: 'rogue' });
        await rogue.runApp(ROGUE, { attack: 'frame-values', count: 200_000 });
        // The LSA cut the channel: the rogue's next call finds it gone, and the LSA says why.
        await assert.rejects(rogue.lpcCall('EnumerateSecurityPackages', {}));
        const stats = await machine.lsa.stats();
        assert.match(stats.disconnected.find((d) => d.name === 'rogue')?.why ?? '', /a frame of more values than its codec takes .* it is cut off/);
        assert.equal(stats.perProcess.find((p) => p.name === 'rogue'), undefined, 'reaped');
        const names = await victim.sspi.queryContextAttributes(before.clientContext!, 1 /* SECPKG_ATTR_NAMES */);
        assert.equal(statusName(names.status), 'SEC_E_OK', "the victim's context is untouched");
        await machineStillWorks(machine);
      });
    });

    it('is cut off and killed when it floods its channels, and the others carry on', async () => {
      await withMachine({ lsaIsolation, trace: true }, async (machine) => {
        const rogue = await machine.spawn('client', { name: 'rogue' });
        await assert.rejects(rogue.runApp(ROGUE, { attack: 'frame-flood', count: 20_000 }), { name: 'TransportError', code: 'FLOODED' });
        await rogue.exited;
        assert.match(rogue.cutOff ?? '', /control:rogue: the peer posted \d+ messages .* it is cut off/);
        await machineStillWorks(machine);
      });
    });

    it('cannot write trace entries or taps in another process name: they carry its own', async () => {
      await withMachine({ lsaIsolation, trace: true }, async (machine) => {
        machine.tap(true);
        const rogue = await machine.spawn('client', { name: 'rogue' });
        await rogue.runApp(ROGUE, { attack: 'forge-trace' });
        const forged = (await machine.events()).filter((e) => e.call === 'ForgedEvent');
        assert.equal(forged.length, 2);
        for (const event of forged) {
          assert.equal(event.process, 'rogue');
          assert.equal(event.pid, rogue.pid);
          assert.equal(event.threadId, rogue.threadId);
        }
        const taps = (await machine.taps()).filter((t) => t.channel === 'lpc:victim');
        assert.equal(taps.length, 1);
        assert.equal(taps[0]!.process, 'rogue');
      });
    });

    it('with tracing off, has nothing of its forged trace kept', async () => {
      await withMachine({ lsaIsolation, trace: false }, async (machine) => {
        const rogue = await machine.spawn('client', { name: 'rogue' });
        await rogue.runApp(ROGUE, { attack: 'forge-trace' });
        assert.deepEqual(
          (await machine.events()).filter((e) => e.call === 'ForgedEvent'),
          [],
        );
        assert.deepEqual(await machine.taps(), []);
      });
    });

    it('answers the LSA with forged replies to CopyFromClientBuffer: each acquire fails with a status, the LSA lives', async () => {
      await withMachine({ lsaIsolation, packages: ['example'] }, async (machine) => {
        const rogue = await machine.spawn('client', { name: 'rogue' });
        const result = await rogue.runApp(ROGUE, { attack: 'forge-lpc-reply' });
        const statuses = result.data?.statuses as string[];
        assert.equal(statuses.length, 9);
        for (const status of statuses) assert.equal(status, 'SEC_E_UNKNOWN_CREDENTIALS', statuses.join(', '));
        const stats = await machine.lsa.stats();
        assert.equal(stats.credentials, 0, 'no credential was made of a forged identity');
        await machineStillWorks(machine);
      });
    });
  });
