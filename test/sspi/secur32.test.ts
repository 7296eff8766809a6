// Secur32, the SSPI library of each app process, in real processes: what it answers itself,
// without the LSA or before asking it (handles it never issued, handles issued to another process,
// deleted handles, message calls it cannot hand to a user-mode half), what it keeps from the
// application (MappedContext, ContextData), and what a call answers once its LSA is gone.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { CtxtHandle } from '../../sspi/handles.js';
import { sealBuffers, signBuffers, status, text, withClientAndServer } from '../helpers/calls.js';
import { ALICE, establish, withMachine } from '../helpers/machine.js';

describe('Secur32', () => {
  it('never lets MappedContext or ContextData reach the application', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      const done = await establish(client, server);
      assert.ok(done.ok);
      const seen = JSON.stringify(done.results, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      assert.doesNotMatch(seen, /MappedContext|ContextData|contextData|mapped/);
      for (const r of done.results)
        assert.deepEqual(
          Object.keys(r as object).filter((k) => !['status', 'credential', 'expiry', 'context', 'output', 'contextAttr', 'cause'].includes(k)),
          [],
        );
    });
  });

  it('answers SEC_E_INVALID_HANDLE for made-up handles without sending them to the LSA', async () => {
    await withMachine({}, async (machine) => {
      const client = await machine.spawn('client');
      const before = (await client.stats()).lpc;
      const madeUp = { dwLower: 0, dwUpper: 12345 } as unknown as CtxtHandle;
      assert.equal(status(await client.sspi.queryContextAttributes(madeUp, SECPKG_ATTR.SIZES)), 'SEC_E_INVALID_HANDLE');
      assert.equal(status(await client.sspi.deleteSecurityContext(madeUp)), 'SEC_E_INVALID_HANDLE');
      assert.deepEqual((await client.stats()).lpc, before, 'no LPC message left the process');
    });
  });

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

  it('answers SEC_E_INVALID_HANDLE for a deleted handle, and SEC_E_OK for deleting it a second time', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
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

  it('answers SEC_E_INVALID_TOKEN for a message without its token buffer, and SEC_E_INVALID_HANDLE before the context is mapped', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      const { clientContext } = await establish(client, server);
      const r = await client.sspi.encryptMessage(clientContext!, 0, [{ BufferType: SECBUFFER.DATA, pvBuffer: text('x') }], 0);
      assert.equal(status(r), 'SEC_E_INVALID_TOKEN');
      const partial = await client.sspi.acquireCredentialsHandle({
        package: 'Example',
        credentialUse: 2,
        authData: { User: 'alice', Domain: '', Password: 'Passw0rd!' },
      });
      const leg1 = await client.sspi.initializeSecurityContext({ credential: partial.credential!, contextReq: 0 });
      assert.equal(status(leg1), 'SEC_I_CONTINUE_NEEDED');
      const early = await client.sspi.makeSignature(leg1.context!, 0, signBuffers(text('x')), 0);
      assert.equal(status(early), 'SEC_E_INVALID_HANDLE');
    });
  });

  it('answers SEC_E_INTERNAL_ERROR with a PEER_GONE cause, at once, for every call that needs a dead LSA, and still answers the calls it needs no LSA for', async () => {
    await withClientAndServer({}, async ({ machine, client, server }) => {
      const done = await establish(client, server);
      await machine.kill(machine.lsa);
      const acquired = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      assert.equal(status(acquired), 'SEC_E_INTERNAL_ERROR');
      assert.equal(acquired.cause?.code, 'PEER_GONE');
      const thunked = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.NATIVE_NAMES);
      assert.equal(status(thunked), 'SEC_E_INTERNAL_ERROR', 'NATIVE_NAMES is answered in the LSA');
      assert.equal(thunked.cause?.code, 'PEER_GONE');
      const madeUp = { dwLower: 0, dwUpper: 12345 } as unknown as CtxtHandle;
      assert.equal(status(await client.sspi.queryContextAttributes(madeUp, SECPKG_ATTR.SIZES)), 'SEC_E_INVALID_HANDLE');
      const sealed = await client.sspi.encryptMessage(done.clientContext!, 0, sealBuffers(text('no LSA needed')), 0);
      assert.equal(status(sealed), 'SEC_E_OK', 'the user-mode half seals in the process');
      assert.equal(status(await server.sspi.decryptMessage(done.serverContext!, sealed.message, 0)), 'SEC_E_OK');
    });
  });
});

describe('Secur32: the LSA connection of LsaConnectUntrusted', () => {
  it('names a connection to one LSA: after restartLsa the old handle is STATUS_INVALID_HANDLE and a new connection works, on the logon the new LSA made', async () => {
    await withMachine({ packages: ['ntlm', 'kerberos'], accounts: ['alice:Passw0rd!'] }, async (machine) => {
      const client = await machine.spawn('client', { logonAs: 'alice' });
      const old = await client.sspi.lsaConnectUntrusted();
      const before = client.logonId;
      assert.equal(status(await client.sspi.lsaLookupAuthenticationPackage(old.lsaHandle!, 'Kerberos')), 'SEC_E_OK');
      await machine.kill(machine.lsa);
      const report = await machine.restartLsa();
      assert.deepEqual(report.reattached, [client.name]);
      assert.equal(statusName((await client.sspi.lsaLookupAuthenticationPackage(old.lsaHandle!, 'Kerberos')).status), 'STATUS_INVALID_HANDLE');
      assert.equal(statusName((await client.sspi.lsaCallAuthenticationPackage(old.lsaHandle!, 1, new Uint8Array(4))).status), 'STATUS_INVALID_HANDLE');
      const fresh = await client.sspi.lsaConnectUntrusted();
      assert.notEqual(fresh.lsaHandle, old.lsaHandle, 'handle values are not reused');
      const kerberos = (await client.sspi.lsaLookupAuthenticationPackage(fresh.lsaHandle!, 'Kerberos')).authenticationPackage!;
      const who = await client.sspi.lsaCallAuthenticationPackage(fresh.lsaHandle!, kerberos, Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
      assert.equal(status(who), 'SEC_E_OK');
      assert.notEqual(client.logonId, before, 'the new LSA logged the process on again');
    });
  });
});
