// Trust boundaries, finding 8 (the example package): a server context whose ClientProof failed
// still answered NAMES with the claimed user and SEC_E_OK, and a credential freed mid-handshake
// broke the context made with it (the context shared the credential's K, which the free wiped).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { ALICE, establish, withMachine } from '../helpers/machine.js';
import { DEFAULT_CLIENT_REQ } from '../../client-proc/app.js';
import { DEFAULT_SERVER_REQ } from '../../server-proc/app.js';

const status = (r: { status: number }): string => statusName(r.status);

describe('an example context', () => {
  it('that failed its ClientProof names nobody and takes no further leg', async () => {
    await withMachine({ packages: ['example'] }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const flipLastByte = (token: Uint8Array, leg: number): Uint8Array => {
        if (leg !== 3) return token;
        const t = Uint8Array.from(token);
        t[t.length - 1]! ^= 1;
        return t;
      };
      const done = await establish(client, server, { transit: flipLastByte });
      assert.deepEqual(
        done.steps.map((s) => s.status),
        ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_LOGON_DENIED'],
      );
      const context = done.serverContext!;
      assert.equal(status(await server.sspi.queryContextAttributes(context, SECPKG_ATTR.NAMES)), 'SEC_E_UNSUPPORTED_FUNCTION');
      assert.equal(status(await server.sspi.queryContextAttributes(context, SECPKG_ATTR.NATIVE_NAMES)), 'SEC_E_UNSUPPORTED_FUNCTION');
      const again = await server.sspi.acceptSecurityContext({
        credential: done.serverCredential,
        context,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(40) }],
        contextReq: DEFAULT_SERVER_REQ,
      });
      assert.equal(status(again), 'SEC_E_INVALID_HANDLE');
    });
  });

  it('finishes its handshake after the credential it was made with is freed', async () => {
    await withMachine({ packages: ['example'] }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const c = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      const s = await server.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.INBOUND });
      const hello = await client.sspi.initializeSecurityContext({ credential: c.credential!, contextReq: DEFAULT_CLIENT_REQ });
      assert.equal(status(hello), 'SEC_I_CONTINUE_NEEDED');
      assert.equal(status(await client.sspi.freeCredentialsHandle(c.credential!)), 'SEC_E_OK');
      const proof = await server.sspi.acceptSecurityContext({ credential: s.credential!, input: hello.output, contextReq: DEFAULT_SERVER_REQ });
      assert.equal(status(proof), 'SEC_I_CONTINUE_NEEDED');
      assert.equal(status(await server.sspi.freeCredentialsHandle(s.credential!)), 'SEC_E_OK');
      const last = await client.sspi.initializeSecurityContext({ context: hello.context!, input: proof.output, contextReq: DEFAULT_CLIENT_REQ });
      assert.equal(status(last), 'SEC_E_OK', 'the client context kept its own K');
      const done = await server.sspi.acceptSecurityContext({ context: proof.context!, input: last.output, contextReq: DEFAULT_SERVER_REQ });
      assert.equal(status(done), 'SEC_E_OK');
      const names = await server.sspi.queryContextAttributes(proof.context!, SECPKG_ATTR.NAMES);
      assert.equal(names.buffer?.sUserName, 'SSPI-EMU\\alice');
    });
  });
});
