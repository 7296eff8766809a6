// End to end: every SSPI function that takes a handle, given another process's handle, a deleted
// one or a forged one, answers SEC_E_INVALID_HANDLE, and the owner's context keeps working across
// its client, server and LSA halves.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, type SecBuffer } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { AppProcess } from '../../machine/machine.js';
import type { CredHandle, CtxtHandle } from '../../sspi/handles.js';
import { establish, withMachine } from '../helpers/machine.js';

const message = (): SecBuffer[] => [
  { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
  { BufferType: SECBUFFER.DATA, pvBuffer: new Uint8Array([1, 2, 3]) },
];

/** Every API function that takes a handle, called with `ctx` and `cred`. */
function everyCall(p: AppProcess, ctx: CtxtHandle, cred: CredHandle): Array<[string, () => Promise<{ status: number }>]> {
  return [
    ['InitializeSecurityContext (credential)', () => p.sspi.initializeSecurityContext({ credential: cred, contextReq: 0 })],
    ['InitializeSecurityContext (context)', () => p.sspi.initializeSecurityContext({ context: ctx, contextReq: 0, input: message() })],
    ['AcceptSecurityContext (credential)', () => p.sspi.acceptSecurityContext({ credential: cred, contextReq: 0, input: message() })],
    ['AcceptSecurityContext (context)', () => p.sspi.acceptSecurityContext({ context: ctx, contextReq: 0, input: message() })],
    ['QueryContextAttributes', () => p.sspi.queryContextAttributes(ctx, SECPKG_ATTR.SIZES)],
    ['QueryCredentialsAttributes', () => p.sspi.queryCredentialsAttributes(cred, 1)],
    ['CompleteAuthToken', () => p.sspi.completeAuthToken(ctx, message())],
    ['ApplyControlToken', () => p.sspi.applyControlToken(ctx, message())],
    ['MakeSignature', () => p.sspi.makeSignature(ctx, 0, message(), 0)],
    ['VerifySignature', () => p.sspi.verifySignature(ctx, message(), 0)],
    ['EncryptMessage', () => p.sspi.encryptMessage(ctx, 0, message(), 0)],
    ['DecryptMessage', () => p.sspi.decryptMessage(ctx, message(), 0)],
    ['ExportSecurityContext', () => p.sspi.exportSecurityContext(ctx, 0)],
    ['DeleteSecurityContext', () => p.sspi.deleteSecurityContext(ctx)],
    ['FreeCredentialsHandle', () => p.sspi.freeCredentialsHandle(cred)],
  ];
}

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`end to end: every function that takes a handle (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('answers SEC_E_INVALID_HANDLE for another process handles, deleted ones and forged ones, and the owner is unaffected', { timeout: 30_000 }, async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        const server = await machine.spawn('server');
        const owner = await machine.spawn('client');
        const other = await machine.spawn('client');
        const { clientContext, clientCredential, serverContext } = await establish(owner, server);
        const before = await machine.lsa.stats();
        const forgedCtx = { dwLower: clientContext!.dwLower, dwUpper: clientContext!.dwUpper + 1 } as unknown as CtxtHandle;
        const forgedCred = { dwLower: 99, dwUpper: clientCredential.dwUpper } as unknown as CredHandle;
        for (const [label, [ctx, cred]] of [
          ['another process', [clientContext!, clientCredential]],
          ['forged', [forgedCtx, forgedCred]],
        ] as const) {
          for (const [name, call] of everyCall(other, ctx, cred))
            assert.equal(statusName((await call()).status), 'SEC_E_INVALID_HANDLE', `${name} with a ${label} handle`);
        }
        const after = await machine.lsa.stats();
        assert.deepEqual([after.contexts, after.credentials], [before.contexts, before.credentials], 'nothing of the owner was freed');

        // The owner's context still works end to end, then the owner deletes and frees it...
        const sealed = await owner.sspi.encryptMessage(clientContext!, 0, message(), 0);
        assert.equal(statusName((await server.sspi.decryptMessage(serverContext!, sealed.message, 0)).status), 'SEC_E_OK');
        assert.equal(statusName((await owner.sspi.deleteSecurityContext(clientContext!)).status), 'SEC_E_OK');
        assert.equal(statusName((await owner.sspi.freeCredentialsHandle(clientCredential)).status), 'SEC_E_OK');
        // ...and after that, every function with those deleted handles is invalid too (a second delete is SEC_E_OK).
        for (const [name, call] of everyCall(owner, clientContext!, clientCredential)) {
          assert.equal(
            statusName((await call()).status),
            name === 'DeleteSecurityContext' ? 'SEC_E_OK' : 'SEC_E_INVALID_HANDLE',
            `${name} with a deleted handle`,
          );
        }
      });
    });
  });
