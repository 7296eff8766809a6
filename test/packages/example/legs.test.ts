// The example package's legs, call by call, through a real LSA (packages/example/lsa.ts): the
// ClientHello, the ServerProof and the ClientProof, each with the status its leg answers; the
// credentials the first leg starts from; a wrong password refused by the server at its first leg,
// an impostor server refused by the client; malformed tokens at every leg; and a context that
// failed a leg takes no further one.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED, type SecBuffer, tokenBytes } from '../../../headers/sspi.js';
import { DEFAULT_CLIENT_REQ } from '../../../client-proc/app.js';
import { DEFAULT_SERVER_REQ } from '../../../server-proc/app.js';
import type { ContextResult } from '../../../sspi/secur32.js';
import { unpackClientHello, unpackClientProof, unpackServerProof } from '../../../packages/example/wire.js';
import { status, withClientAndServer } from '../../helpers/calls.js';
import { ALICE, establish, withMachine } from '../../helpers/machine.js';

const token = (bytes: Uint8Array): SecBuffer[] => [{ BufferType: SECBUFFER.TOKEN, pvBuffer: bytes }];

/** The token of leg `leg` with its last byte flipped (a MAC that no longer verifies), the others untouched. */
const flipLastByteOf =
  (leg: number) =>
  (t: Uint8Array, l: number): Uint8Array => {
    if (l !== leg) return t;
    const forged = t.slice();
    forged[forged.length - 1]! ^= 0xff;
    return forged;
  };

describe('the example package, leg by leg', () => {
  it('answers ClientHello with SEC_I_CONTINUE_NEEDED, the ServerProof with SEC_E_OK at the client, and the ClientProof with SEC_E_OK at the server', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      const c = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      const s = await server.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.INBOUND });

      // Leg 1, the client: a ClientHello naming alice, and more to come.
      const hello = await client.sspi.initializeSecurityContext({ credential: c.credential!, contextReq: DEFAULT_CLIENT_REQ });
      assert.equal(status(hello), 'SEC_I_CONTINUE_NEEDED');
      assert.ok(hello.context !== undefined, 'the client context exists from the first leg');
      const parsedHello = unpackClientHello(tokenBytes(hello.output)!);
      assert.ok(parsedHello !== undefined, 'the first token is a ClientHello');
      assert.deepEqual([Buffer.from(parsedHello.user).toString(), Buffer.from(parsedHello.domain).toString()], ['alice', 'SSPI-EMU']);

      // Leg 2, the server: P1 checked, a ServerProof, and the client's proof still to come.
      const proof = await server.sspi.acceptSecurityContext({ credential: s.credential!, input: hello.output, contextReq: DEFAULT_SERVER_REQ });
      assert.equal(status(proof), 'SEC_I_CONTINUE_NEEDED');
      assert.ok(unpackServerProof(tokenBytes(proof.output)!) !== undefined, 'the second token is a ServerProof');
      assert.equal(status(await server.sspi.queryContextAttributes(proof.context!, SECPKG_ATTR.NAMES)), 'SEC_E_UNSUPPORTED_FUNCTION', 'nobody is named yet');

      // Leg 3, the client: SP checked, the client is done and mapped, and sends its ClientProof.
      const last = await client.sspi.initializeSecurityContext({ context: hello.context!, input: proof.output, contextReq: DEFAULT_CLIENT_REQ });
      assert.equal(status(last), 'SEC_E_OK');
      assert.deepEqual(last.context, hello.context, 'the same handle on later calls');
      assert.ok(unpackClientProof(tokenBytes(last.output)!) !== undefined, 'the third token is a ClientProof');

      // The server's last call: CP checked, done and mapped, nothing more to send.
      const done = await server.sspi.acceptSecurityContext({ context: proof.context!, input: last.output, contextReq: DEFAULT_SERVER_REQ });
      assert.equal(status(done), 'SEC_E_OK');
      assert.equal(tokenBytes(done.output)?.byteLength ?? 0, 0);
      assert.equal((await server.sspi.queryContextAttributes(proof.context!, SECPKG_ATTR.NAMES)).buffer?.sUserName, 'SSPI-EMU\\alice');
      assert.equal((await client.stats()).userMode.spInitUserModeContext, 1, 'leg 3 mapped the client context');
      assert.equal((await server.stats()).userMode.spInitUserModeContext, 1, "the server's last call mapped its context");
    });
  });

  it('fails a wrong password with SEC_E_LOGON_DENIED at the server and an impostor server with SEC_E_MUTUAL_AUTH_FAILED at the client', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      const wrong = await establish(client, server, { authData: { ...ALICE, Password: 'nope' } });
      assert.deepEqual(wrong.steps.at(-1), { process: 'server', api: 'AcceptSecurityContext', status: 'SEC_E_LOGON_DENIED' });
      const impostor = await establish(client, server, {
        transit: (token, leg) => {
          if (leg !== 2) return token;
          const forged = token.slice();
          forged[forged.length - 1]! ^= 0xff; // the server's proof, as a server without the secret would send it
          return forged;
        },
      });
      assert.deepEqual(impostor.steps.at(-1), { process: 'client', api: 'InitializeSecurityContext', status: 'SEC_E_MUTUAL_AUTH_FAILED' });
    });
  });

  it('refuses a wrong password at the first leg it sees, before it proves anything: no ServerProof and no server context', async () => {
    await withClientAndServer({}, async ({ machine, client, server }) => {
      const before = (await machine.lsa.stats()).contexts;
      const wrong = await establish(client, server, { authData: { ...ALICE, Password: 'nope' } });
      assert.deepEqual(
        wrong.steps.map((s) => `${s.process} ${s.status}`),
        ['client SEC_I_CONTINUE_NEEDED', 'server SEC_E_LOGON_DENIED'],
      );
      const refused = wrong.results.at(-1) as ContextResult;
      assert.equal(tokenBytes(refused.output)?.byteLength ?? 0, 0, 'no ServerProof to guess passwords against');
      assert.equal(refused.context, undefined);
      assert.equal((await machine.lsa.stats()).contexts, before + 1, "only the client's context was made");
    });
  });

  it('answers SEC_E_INVALID_HANDLE for any further leg of a context that failed a leg, on either side', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      // The client refused the server's proof (leg 2 forged): its context takes no further leg.
      const impostor = await establish(client, server, { transit: flipLastByteOf(2) });
      assert.equal(impostor.steps.at(-1)?.status, 'SEC_E_MUTUAL_AUTH_FAILED');
      const again = await client.sspi.initializeSecurityContext({
        context: impostor.clientContext!,
        input: token(new Uint8Array(70)),
        contextReq: DEFAULT_CLIENT_REQ,
      });
      assert.equal(status(again), 'SEC_E_INVALID_HANDLE');

      // The server refused the client's proof (leg 3 forged): its context takes no further leg.
      const forger = await establish(client, server, { transit: flipLastByteOf(3) });
      assert.deepEqual(
        forger.steps.map((s) => s.status),
        ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_LOGON_DENIED'],
      );
      const retry = await server.sspi.acceptSecurityContext({
        context: forger.serverContext!,
        input: token(new Uint8Array(38)),
        contextReq: DEFAULT_SERVER_REQ,
      });
      assert.equal(status(retry), 'SEC_E_INVALID_HANDLE');
    });
  });

  it('answers SEC_E_INVALID_TOKEN for malformed and truncated tokens at every leg, and the LSA keeps serving', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
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
});

describe('the credentials the first leg starts from', () => {
  it('authenticates with the process logon when no explicit credentials are given', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client', { logonAs: 'SSPI-EMU\\bob' });
      const done = await establish(client, server, { authData: null });
      assert.ok(done.ok, JSON.stringify(done.steps));
      const names = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NAMES);
      assert.equal(names.buffer?.sUserName, 'SSPI-EMU\\bob');
    });
  });

  it('answers SEC_E_NO_CREDENTIALS for default credentials in a process that runs as nobody', async () => {
    await withMachine({}, async (machine) => {
      const client = await machine.spawn('client');
      const r = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND });
      assert.equal(status(r), 'SEC_E_NO_CREDENTIALS');
      assert.equal(r.credential, undefined);
      const inbound = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.INBOUND });
      assert.equal(status(inbound), 'SEC_E_OK', 'a server needs no secret of its own');
    });
  });
});

describe('the key derivation on the LSA work pool', () => {
  it('handshakes with the pool off, at 1 and at 2 threads, deriving K once for the logon as bob, once per explicit acquire, once per account at the server', async () => {
    for (const threads of [0, 1, 2]) {
      await withMachine({ lsaWorkPool: { threads } }, async (machine) => {
        const server = await machine.spawn('server');
        const asBob = await machine.spawn('client', { logonAs: 'SSPI-EMU\\bob' });
        const anonymous = await machine.spawn('client');
        const runs = [
          await establish(asBob, server, { authData: null }), // bob's K from his logon; the server derives bob's
          await establish(anonymous, server), // alice's, explicit; the server derives alice's
          await establish(anonymous, server), // alice's, explicit again; the server knows it
        ];
        for (const run of runs) assert.ok(run.ok, `${threads} threads: ${JSON.stringify(run.steps)}`);
        const { workPool } = await machine.lsa.stats();
        const derived = { onPool: threads === 0 ? 0 : 5, inline: threads === 0 ? 5 : 0 };
        assert.deepEqual({ onPool: workPool.onPool, inline: workPool.inline, failed: workPool.failed }, { ...derived, failed: 0 }, `${threads} threads`);
      });
    }
  });
});
