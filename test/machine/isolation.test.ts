// Handles are per process: another process's handle, a deleted one and a made-up one all get
// SEC_E_INVALID_HANDLE, at the SSPI library and at the LSA alike, and the owner is unaffected.
// Bad input (unknown package, malformed tokens, malformed LPC bodies) gets a status and changes nothing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { LsaHandle } from '../../ipc/ids.js';
import type { CtxtHandle } from '../../sspi/handles.js';
import { ALICE, establish, withMachine } from '../helpers/machine.js';

const status = (r: unknown): string => statusName((r as { status: number }).status);

describe('handle isolation', () => {
  it('answers SEC_E_INVALID_HANDLE for a handle that belongs to another process, and the owner keeps using it', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const victim = await machine.spawn('client');
      const thief = await machine.spawn('client');
      const { clientContext, clientCredential } = await establish(victim, server);
      assert.equal(status(await thief.sspi.queryContextAttributes(clientContext!, SECPKG_ATTR.NAMES)), 'SEC_E_INVALID_HANDLE');
      assert.equal(status(await thief.sspi.initializeSecurityContext({ credential: clientCredential, contextReq: 0 })), 'SEC_E_INVALID_HANDLE');
      assert.equal(status(await thief.sspi.deleteSecurityContext(clientContext!)), 'SEC_E_INVALID_HANDLE');
      assert.equal(status(await thief.sspi.freeCredentialsHandle(clientCredential)), 'SEC_E_INVALID_HANDLE');
      const names = await victim.sspi.queryContextAttributes(clientContext!, SECPKG_ATTR.NAMES);
      assert.equal(names.buffer?.sUserName, 'SSPI-EMU\\alice');
    });
  });

  it('answers SEC_E_INVALID_HANDLE to a rogue process presenting another process LSA handle values over LPC', async () => {
    await withMachine({}, async (machine) => {
      machine.tap(true);
      const server = await machine.spawn('server');
      const victim = await machine.spawn('client');
      const rogue = await machine.spawn('client', { name: 'rogue' });
      const { serverContext } = await establish(victim, server);
      // Sniff the victim's LSA handle values off its channel, as an attacker on the wire would.
      const replies = (await machine.taps()).filter((t) => t.channel === 'lpc:client' && t.direction === 'receive');
      const handles = replies
        .map((t) => (t.message as { body?: { hNewContext?: number; hCredential?: number } }).body)
        .flatMap((b) => [b?.hNewContext, b?.hCredential]);
      const stolen = handles.filter((h): h is number => typeof h === 'number');
      assert.ok(stolen.length >= 2, 'the victim received LSA handles');
      const before = await machine.lsa.stats();
      for (const h of stolen) {
        assert.equal(status(await rogue.lpcCall('SpQueryContextAttributes', { hContext: h, ulAttribute: SECPKG_ATTR.NAMES })), 'SEC_E_INVALID_HANDLE');
        assert.equal(status(await rogue.lpcCall('SpDeleteContext', { hContext: h })), 'SEC_E_INVALID_HANDLE');
        assert.equal(status(await rogue.lpcCall('SpFreeCredentialsHandle', { hCredential: h })), 'SEC_E_INVALID_HANDLE');
        const leg = await rogue.lpcCall('SpInitLsaModeContext', {
          hCredential: h,
          hContext: null,
          pszTargetName: null,
          fContextReq: 0,
          TargetDataRep: 0,
          input: null,
          outputTypes: [SECBUFFER.TOKEN],
        });
        assert.equal(status(leg), 'SEC_E_INVALID_HANDLE');
      }
      const after = await machine.lsa.stats();
      assert.equal(after.contexts, before.contexts, 'nothing of the victim was freed');
      assert.equal(after.credentials, before.credentials);
      const names = await server.sspi.queryContextAttributes(serverContext!, SECPKG_ATTR.NATIVE_NAMES);
      assert.equal(status(names), 'SEC_E_OK', 'the owner still reaches its context in the LSA');
    });
  });

  it('answers SEC_E_INVALID_HANDLE for a deleted handle, and SEC_E_OK for deleting it a second time', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const { clientContext } = await establish(client, server);
      assert.equal(status(await client.sspi.deleteSecurityContext(clientContext!)), 'SEC_E_OK');
      assert.equal(status(await client.sspi.deleteSecurityContext(clientContext!)), 'SEC_E_OK');
      assert.equal(status(await client.sspi.queryContextAttributes(clientContext!, SECPKG_ATTR.SIZES)), 'SEC_E_INVALID_HANDLE');
      const sealed = await client.sspi.encryptMessage(
        clientContext!,
        0,
        [
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
          { BufferType: SECBUFFER.DATA, pvBuffer: new Uint8Array(4) },
        ],
        0,
      );
      assert.equal(status(sealed), 'SEC_E_INVALID_HANDLE');
    });
  });

  it('answers SEC_E_INVALID_HANDLE for made-up handles, in the library and at the LSA', async () => {
    await withMachine({}, async (machine) => {
      const client = await machine.spawn('client');
      const madeUp = { dwLower: 0, dwUpper: 12345 } as unknown as CtxtHandle;
      assert.equal(status(await client.sspi.queryContextAttributes(madeUp, SECPKG_ATTR.SIZES)), 'SEC_E_INVALID_HANDLE');
      assert.equal(status(await client.sspi.deleteSecurityContext(madeUp)), 'SEC_E_INVALID_HANDLE');
      for (const h of [0, 1, 0x10000, 2 ** 31, -1, 1.5, 'x', null, { dwLower: 1 }] as unknown as LsaHandle[]) {
        assert.equal(status(await client.lpcCall('SpDeleteContext', { hContext: h })), 'SEC_E_INVALID_HANDLE');
      }
    });
  });

  it('answers SEC_E_SECPKG_NOT_FOUND for an unknown package, including names a lookup must not resolve', async () => {
    await withMachine({}, async (machine) => {
      const client = await machine.spawn('client');
      for (const name of ['Kerberos', '__proto__', 'constructor', '']) {
        assert.equal(
          status(await client.sspi.acquireCredentialsHandle({ package: name, credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE })),
          'SEC_E_SECPKG_NOT_FOUND',
        );
        assert.equal(status(await client.sspi.querySecurityPackageInfo(name)), 'SEC_E_SECPKG_NOT_FOUND');
      }
      const info = await client.sspi.querySecurityPackageInfo('example');
      assert.equal(info.info?.Name, 'Example', 'package names are case-insensitive');
    });
  });

  it('answers SEC_E_INVALID_TOKEN for malformed and truncated tokens at every leg, and the LSA keeps serving', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const garbage = [new Uint8Array(0), new Uint8Array([1]), new Uint8Array(600).fill(0x41)];
      for (const leg of [1, 2, 3]) {
        const truncated = await establish(client, server, { transit: (t, l) => (l === leg ? t.subarray(0, t.length - 1) : t) });
        assert.equal(truncated.steps.at(-1)?.status, 'SEC_E_INVALID_TOKEN', `leg ${leg} truncated`);
        for (const g of garbage) {
          const bad = await establish(client, server, { transit: (t, l) => (l === leg ? g : t) });
          assert.equal(bad.steps.at(-1)?.status, 'SEC_E_INVALID_TOKEN', `leg ${leg} garbage of ${g.length} bytes`);
        }
      }
      assert.ok((await establish(client, server)).ok, 'a good handshake still works');
    });
  });

  it('answers malformed LPC bodies with a status and keeps serving', async () => {
    await withMachine({}, async (machine) => {
      const rogue = await machine.spawn('client');
      const bodies: Array<[Parameters<typeof rogue.lpcCall>[0], object]> = [
        ['SpAcquireCredentialsHandle', {}],
        ['SpAcquireCredentialsHandle', { pszPackage: 'Example', fCredentialUse: 'x' }],
        ['SpAcquireCredentialsHandle', { pszPackage: 'Example', fCredentialUse: 2, pAuthData: { address: 1, length: 1e9 } }],
        ['SpAcquireCredentialsHandle', { pszPackage: 'Example', fCredentialUse: 2, pAuthData: { address: 42, length: 28 } }],
        ['SpInitLsaModeContext', { hCredential: 1, fContextReq: 0, input: 'nope', outputTypes: [] }],
        ['SpAcceptLsaModeContext', { input: [{ BufferType: 2, pvBuffer: 'x' }], fContextReq: 0 }],
        ['SpAcceptLsaModeContext', { input: new Array(100).fill({ BufferType: 2, pvBuffer: new Uint8Array(1) }), fContextReq: 0 }],
        ['SpQueryContextAttributes', { hContext: 'x' }],
        ['QuerySecurityPackageInfo', { pszPackageName: 7 }],
      ];
      for (const [op, body] of bodies) {
        const reply = await rogue.lpcCall(op, body);
        assert.match(status(reply), /^SEC_E_|^STATUS_/, `${op} ${JSON.stringify(body)}`);
        assert.notEqual(status(reply), 'SEC_E_OK');
      }
      const fine = await rogue.sspi.enumerateSecurityPackages();
      assert.equal(status(fine), 'SEC_E_OK');
      assert.equal((await machine.lsa.stats()).credentials, 0);
    });
  });
});
