// A rogue process's LsaCallAuthenticationPackage: hostile bodies on the LPC channel and hostile
// Kerberos submit buffers (truncated, lying UNICODE_STRING lengths and offsets, unknown message
// types, huge, random). Every one answers a status (STATUS_INVALID_PARAMETER and its kin), none
// reaches another logon's cache, and afterwards the LSA, the package and another process's cache
// are as they were.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  KERB_PROTOCOL_MESSAGE_TYPE,
  KERB_PURGE_TKT_CACHE_REQUEST_SIZE,
  packKerbPurgeTktCacheRequest,
  packKerbQueryTktCacheRequest,
  unpackKerbQueryTktCacheExResponse,
} from '../../headers/ntsecapi.js';
import { statusName } from '../../headers/status.js';
import { seededRandom } from '../../faults/index.js';
import type { AppProcess } from '../../index.js';
import { withMachine } from '../helpers/machine.js';

const nt = (s: number | undefined): string => (s === 0 ? 'STATUS_SUCCESS' : statusName(s ?? -1));
const MACHINE = {
  packages: ['ntlm', 'kerberos'],
  accounts: ['EXAMPLE\\alice:Alice-pw-1', 'EXAMPLE\\mallory:Mallory-pw-2'],
  packageSettings: { kerberos: { realm: 'EXAMPLE.TEST' } },
  trace: false,
};

/** What an answer says: the call's status, and the message's when the call succeeded. */
async function ask(proc: AppProcess, submit: Uint8Array): Promise<string> {
  const { lsaHandle } = await proc.sspi.lsaConnectUntrusted();
  const kerberos = (await proc.sspi.lsaLookupAuthenticationPackage(lsaHandle!, 'Kerberos')).authenticationPackage!;
  const r = await proc.sspi.lsaCallAuthenticationPackage(lsaHandle!, kerberos, submit);
  await proc.sspi.lsaDeregisterLogonProcess(lsaHandle!);
  return r.protocolStatus === undefined ? nt(r.status) : `${nt(r.status)}/${nt(r.protocolStatus)}`;
}

/** A purge request with its fixed part edited. */
function purgeWith(edit: (view: DataView) => void): Uint8Array {
  const bytes = packKerbPurgeTktCacheRequest({
    MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbPurgeTicketCacheMessage,
    LogonId: 0n,
    ServerName: 'krbtgt/EXAMPLE.TEST',
    RealmName: 'EXAMPLE.TEST',
  });
  edit(new DataView(bytes.buffer));
  return bytes;
}

describe('a rogue process calling the Kerberos package through LsaCallAuthenticationPackage', { timeout: 120_000 }, () => {
  it('answers every hostile submit buffer with a status, changes nothing, and crashes nothing', async () => {
    await withMachine(MACHINE, async (machine) => {
      const alice = await machine.spawn('client', { logonAs: 'EXAMPLE\\alice', name: 'alice' });
      const rogue = await machine.spawn('client', { logonAs: 'EXAMPLE\\mallory', name: 'rogue' });
      const query = packKerbQueryTktCacheRequest({ MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage, LogonId: 0n });
      assert.equal(await ask(alice, query), 'STATUS_SUCCESS/STATUS_SUCCESS', "alice's own query, before");

      // Truncated: shorter than a message type, then shorter than each request.
      for (let n = 0; n < 4; n++) assert.equal(await ask(rogue, query.subarray(0, n)), 'STATUS_INVALID_PARAMETER', `${n} bytes`);
      for (let n = 4; n < query.byteLength; n++)
        assert.equal(await ask(rogue, query.subarray(0, n)), 'STATUS_SUCCESS/STATUS_INVALID_PARAMETER', `a query of ${n} bytes`);
      const purge = purgeWith(() => undefined);
      for (const n of [4, 16, KERB_PURGE_TKT_CACHE_REQUEST_SIZE - 1, purge.byteLength - 1])
        assert.equal(await ask(rogue, purge.subarray(0, n)), 'STATUS_SUCCESS/STATUS_INVALID_PARAMETER', `a purge of ${n} bytes`);

      // Lying UNICODE_STRINGs.
      const lies: Array<[string, Uint8Array]> = [
        ['Length 0xfffe', purgeWith((v) => (v.setUint16(16, 0xfffe, true), v.setUint16(18, 0xfffe, true)))],
        ['an odd Length', purgeWith((v) => v.setUint16(32, 5, true))],
        ['Length over MaximumLength', purgeWith((v) => v.setUint16(18, 2, true))],
        ['Buffer 2^64 - 1', purgeWith((v) => v.setBigUint64(24, 0xffff_ffff_ffff_ffffn, true))],
        ['Buffer one past the end', purgeWith((v) => v.setBigUint64(40, BigInt(purge.byteLength + 1), true))],
        ['a null Buffer with a Length', purgeWith((v) => v.setBigUint64(40, 0n, true))],
      ];
      for (const [what, bytes] of lies) assert.equal(await ask(rogue, bytes), 'STATUS_SUCCESS/STATUS_INVALID_PARAMETER', what);

      // Unknown and unimplemented message types.
      for (const type of [37, 0x100, 0x7fffffff, 0x80000000, 0xffffffff]) {
        const b = new Uint8Array(64);
        new DataView(b.buffer).setUint32(0, type, true);
        assert.equal(await ask(rogue, b), 'STATUS_INVALID_PARAMETER', `type ${type}`);
      }
      for (const type of [0, 2, 4, 8, 9, 13, 20, 21, 25, 34]) {
        const b = new Uint8Array(512).fill(0x41);
        new DataView(b.buffer).setUint32(0, type, true);
        assert.equal(await ask(rogue, b), 'STATUS_NOT_IMPLEMENTED', `type ${type}`);
      }

      // Huge: the largest submit buffer the LSA takes, and one byte more (refused before the package sees it).
      const largest = new Uint8Array(64 * 1024).fill(0xff);
      assert.equal(await ask(rogue, largest), 'STATUS_INVALID_PARAMETER', '64 KiB of 0xff: a type outside the enumeration');
      const query64k = new Uint8Array(64 * 1024);
      query64k.set(packKerbQueryTktCacheRequest({ MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheMessage, LogonId: 0n }));
      assert.equal(await ask(rogue, query64k), 'STATUS_SUCCESS/STATUS_SUCCESS', 'a query with 64 KiB of trailing bytes is a query');
      assert.equal(await ask(rogue, new Uint8Array(64 * 1024 + 1)), 'STATUS_INVALID_PARAMETER', 'one byte over');
      assert.equal(await ask(rogue, new Uint8Array(1 << 20)), 'STATUS_INVALID_PARAMETER', '1 MiB');

      // Another logon's LogonId, however it is spelled.
      for (const LogonId of [alice.logonId, alice.logonId | (1n << 63n), -1n])
        assert.equal(
          await ask(
            rogue,
            packKerbPurgeTktCacheRequest({ MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbPurgeTicketCacheMessage, LogonId, ServerName: '', RealmName: '' }),
          ),
          'STATUS_SUCCESS/STATUS_ACCESS_DENIED',
          `LogonId ${LogonId}`,
        );

      // Random buffers behind each implemented type (seeded: the same run every time).
      const random = seededRandom(14);
      const answers = new Set<string>();
      for (let i = 0; i < 300; i++) {
        const b = Uint8Array.from({ length: Math.floor(random() * 160) + 4 }, () => Math.floor(random() * 256));
        new DataView(b.buffer).setUint32(0, [1, 6, 14][i % 3]!, true);
        // Keep the LogonId the caller's own now and then, so the string checks are reached too.
        if (i % 2 === 0 && b.byteLength >= 12) b.fill(0, 4, 12);
        answers.add(await ask(rogue, b));
      }
      for (const a of answers) assert.match(a, /^STATUS_SUCCESS\/(STATUS_SUCCESS|STATUS_INVALID_PARAMETER|STATUS_ACCESS_DENIED)$/);

      // Hostile bodies on the raw channel.
      const bodies: object[] = [
        { AuthenticationPackage: 1, ProtocolSubmitBuffer: null },
        { AuthenticationPackage: 1, ProtocolSubmitBuffer: 'x'.repeat(100) },
        { AuthenticationPackage: 1, ProtocolSubmitBuffer: { length: 4 } },
        { AuthenticationPackage: Number.NaN, ProtocolSubmitBuffer: new Uint8Array(4) },
        { AuthenticationPackage: 2n ** 70n, ProtocolSubmitBuffer: new Uint8Array(4) },
        { AuthenticationPackage: { valueOf: 1 }, ProtocolSubmitBuffer: new Uint8Array(4) },
        {},
      ];
      for (const body of bodies) {
        const reply = (await rogue.lpcCall('LsaApCallPackageUntrusted', body)) as { status: number };
        assert.match(
          nt(reply.status),
          /^STATUS_(INVALID_PARAMETER|NO_SUCH_PACKAGE)$/,
          JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
        );
      }

      // Nothing changed and everything answers.
      assert.ok(machine.lsa.alive && rogue.alive && alice.alive, 'the LSA and both processes are alive');
      const { lsaHandle } = await alice.sspi.lsaConnectUntrusted();
      const kerberos = (await alice.sspi.lsaLookupAuthenticationPackage(lsaHandle!, 'Kerberos')).authenticationPackage!;
      const after = await alice.sspi.lsaCallAuthenticationPackage(lsaHandle!, kerberos, query);
      assert.equal(nt(after.protocolStatus), 'STATUS_SUCCESS', "alice's own query, after");
      assert.deepEqual(unpackKerbQueryTktCacheExResponse(after.returnBuffer!)?.Tickets, [], 'no realm KDC here: an empty cache, as before');
      assert.equal(
        (await machine.lsa.stats()).perProcess.find((p) => p.name === 'rogue')?.name,
        'rogue',
        'the rogue is still attached: nothing it sent was a reason to cut it off',
      );
    });
  });
});
