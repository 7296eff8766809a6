// End to end: the IIS worker handoff. A client authenticates to server process A; A and the client
// exchange sealed and signed messages; A exports the context (ExportSecurityContext) for server
// process B, which imports it (ImportSecurityContext) and carries on the same conversation, its
// sequence numbers and keystreams where A left them. For NTLM and for the example package, with
// DELETE_OLD (A's handle goes), without it (both hold the context; the package keeps it until the
// last lets go), and with RESET_NEW (the copy starts again from the beginning).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CONTEXT_EXPORT, type SecBuffer } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import type { CtxtHandle } from '../../sspi/handles.js';
import { establish } from '../helpers/machine.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Each package's trailer and signature sizes (SECPKG_ATTR_SIZES cbSecurityTrailer / cbMaxSignature). */
const PACKAGES = [
  { name: 'NTLM', trailer: 16 },
  { name: 'Example', trailer: 24 },
] as const;

function sealedMessage(trailer: number, text: string): SecBuffer[] {
  return [
    { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(trailer) },
    { BufferType: SECBUFFER.DATA, pvBuffer: encoder.encode(text) },
  ];
}

/** `from` seals `text`, `to` unseals it: the status `to` answers, and the text when it is SEC_E_OK. */
async function sealAcross(from: AppProcess, fromContext: CtxtHandle, to: AppProcess, toContext: CtxtHandle, trailer: number, text: string): Promise<string> {
  const sealed = await from.sspi.encryptMessage(fromContext, 0, sealedMessage(trailer, text), 0);
  assert.equal(statusName(sealed.status), 'SEC_E_OK', `${from.name} seals "${text}"`);
  const opened = await to.sspi.decryptMessage(toContext, sealed.message, 0);
  if (statusName(opened.status) !== 'SEC_E_OK') return statusName(opened.status);
  return decoder.decode(opened.message.find((b) => b.BufferType === SECBUFFER.DATA)!.pvBuffer);
}

/** `from` signs `text`, `to` verifies it: the status `to` answers. */
async function signAcross(from: AppProcess, fromContext: CtxtHandle, to: AppProcess, toContext: CtxtHandle, trailer: number, text: string): Promise<string> {
  const signed = await from.sspi.makeSignature(fromContext, 0, sealedMessage(trailer, text), 0);
  assert.equal(statusName(signed.status), 'SEC_E_OK', `${from.name} signs "${text}"`);
  return statusName((await to.sspi.verifySignature(toContext, signed.message, 0)).status);
}

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(
    `the IIS worker handoff: a context exported by one server process and imported by another (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`,
    { timeout: 60_000 },
    () => {
      let machine: Machine, client: AppProcess, serverA: AppProcess, serverB: AppProcess;

      before(async () => {
        machine = await Machine.boot({ packages: ['ntlm', 'example'], accounts: ['alice:Passw0rd!'], trace: true, lsaIsolation });
        client = await machine.spawn('client', { name: 'client' });
        serverA = await machine.spawn('server', { name: 'server-a' });
        serverB = await machine.spawn('server', { name: 'server-b' });
      });
      after(() => machine.shutdown());

      for (const { name, trailer } of PACKAGES) {
        describe(name, () => {
          it('continues the conversation in B where A left it, A handle deleted (DELETE_OLD), sequence numbers intact', async () => {
            const pair = await establish(client, serverA, { package: name });
            assert.ok(pair.ok, JSON.stringify(pair.steps));
            const c = pair.clientContext!;
            const a = pair.serverContext!;
            assert.equal(await sealAcross(client, c, serverA, a, trailer, 'first, to A'), 'first, to A');
            assert.equal(await sealAcross(serverA, a, client, c, trailer, 'A answers'), 'A answers');
            assert.equal(await signAcross(client, c, serverA, a, trailer, 'second, signed, to A'), 'SEC_E_OK');

            const exported = await serverA.sspi.exportSecurityContext(a, SECPKG_CONTEXT_EXPORT.DELETE_OLD, { importingProcess: serverB.pid });
            assert.equal(statusName(exported.status), 'SEC_E_OK');
            assert.equal(exported.token, null);
            // A holds nothing now: its handle is gone, and deleting it again is the documented no-op.
            assert.equal(statusName((await serverA.sspi.encryptMessage(a, 0, sealedMessage(trailer, 'x'), 0)).status), 'SEC_E_INVALID_HANDLE');
            assert.equal(statusName((await serverA.sspi.deleteSecurityContext(a)).status), 'SEC_E_OK');
            assert.equal((await serverA.stats()).handles.contexts, 0);
            assert.equal((await machine.lsa.stats()).exports, 1);

            const imported = await serverB.sspi.importSecurityContext(name, exported.packedContext!);
            assert.equal(statusName(imported.status), 'SEC_E_OK');
            const b = imported.context!;
            assert.equal((await machine.lsa.stats()).exports, 0);

            // The client's third message (sequence number 2) and B's answer: B continues A's state.
            assert.equal(await sealAcross(client, c, serverB, b, trailer, 'third, to B'), 'third, to B');
            assert.equal(await sealAcross(serverB, b, client, c, trailer, 'B answers'), 'B answers');
            assert.equal(await signAcross(client, c, serverB, b, trailer, 'fourth, signed, to B'), 'SEC_E_OK');
            assert.equal(await signAcross(serverB, b, client, c, trailer, 'B signs'), 'SEC_E_OK');

            // Who authenticated comes from the LSA's record of the handshake.
            const names = await serverB.sspi.queryContextAttributes(b, SECPKG_ATTR.NAMES);
            assert.equal(names.buffer?.sUserName, 'SSPI-EMU\\alice');
            const key = {
              b: await serverB.sspi.queryContextAttributes(b, SECPKG_ATTR.SESSION_KEY),
              c: await client.sspi.queryContextAttributes(c, SECPKG_ATTR.SESSION_KEY),
            };
            assert.deepEqual(key.b.buffer?.SessionKey, key.c.buffer?.SessionKey);

            // A replayed message is still caught: B's sequence number has moved on.
            const signed = await client.sspi.makeSignature(c, 0, sealedMessage(trailer, 'once'), 0);
            assert.equal(statusName((await serverB.sspi.verifySignature(b, signed.message, 0)).status), 'SEC_E_OK');
            assert.equal(statusName((await serverB.sspi.verifySignature(b, signed.message, 0)).status), 'SEC_E_OUT_OF_SEQUENCE');

            for (const [p, h] of [
              [serverB, b],
              [client, c],
            ] as const)
              assert.equal(statusName((await p.sspi.deleteSecurityContext(h)).status), 'SEC_E_OK');
            for (const [p, credential] of [
              [client, pair.clientCredential],
              [serverA, pair.serverCredential],
            ] as const)
              await p.sspi.freeCredentialsHandle(credential);
            const stats = await machine.lsa.stats();
            assert.deepEqual([stats.contexts, stats.exports, stats.credentials], [0, 0, 0]);
          });

          it('without DELETE_OLD both keep the context; the package keeps it until the last holder deletes it', async () => {
            const pair = await establish(client, serverA, { package: name });
            const c = pair.clientContext!;
            const a = pair.serverContext!;
            assert.equal(await signAcross(client, c, serverA, a, trailer, 'to A'), 'SEC_E_OK');
            const exported = await serverA.sspi.exportSecurityContext(a, 0);
            assert.equal(statusName(exported.status), 'SEC_E_OK');
            const imported = await serverB.sspi.importSecurityContext(name, exported.packedContext!);
            assert.equal(statusName(imported.status), 'SEC_E_OK');
            const b = imported.context!;

            // Both continue from the same point: each verifies the client's next signature.
            const signed = await client.sspi.makeSignature(c, 0, sealedMessage(trailer, 'to both'), 0);
            const copy = structuredClone(signed.message);
            assert.equal(statusName((await serverA.sspi.verifySignature(a, signed.message, 0)).status), 'SEC_E_OK');
            assert.equal(statusName((await serverB.sspi.verifySignature(b, copy, 0)).status), 'SEC_E_OK');

            // A lets go; B's context lives on in the package (a level answered in the LSA still works).
            assert.equal(statusName((await serverA.sspi.deleteSecurityContext(a)).status), 'SEC_E_OK');
            assert.equal((await machine.lsa.stats()).contexts, 2, "the client's and B's");
            const lifespan = await serverB.sspi.queryContextAttributes(b, SECPKG_ATTR.LIFESPAN);
            assert.equal(statusName(lifespan.status), 'SEC_E_OK');
            if (name === 'Example') {
              // The example package answers SECPKG_ATTR_NATIVE_NAMES in its LSA-mode half: the shared context is still there.
              const native = await serverB.sspi.queryContextAttributes(b, SECPKG_ATTR.NATIVE_NAMES);
              assert.equal(statusName(native.status), 'SEC_E_OK');
            }
            assert.equal(await sealAcross(client, c, serverB, b, trailer, 'to B after A left'), 'to B after A left');

            await serverB.sspi.deleteSecurityContext(b);
            await client.sspi.deleteSecurityContext(c);
            await client.sspi.freeCredentialsHandle(pair.clientCredential);
            await serverA.sspi.freeCredentialsHandle(pair.serverCredential);
            const stats = await machine.lsa.stats();
            assert.deepEqual([stats.contexts, stats.exports], [0, 0]);
          });

          it('with RESET_NEW the copy starts from the beginning: B expects sequence number 0', async () => {
            const pair = await establish(client, serverA, { package: name });
            const c = pair.clientContext!;
            const a = pair.serverContext!;
            assert.equal(await signAcross(client, c, serverA, a, trailer, 'to A'), 'SEC_E_OK');
            const exported = await serverA.sspi.exportSecurityContext(a, SECPKG_CONTEXT_EXPORT.RESET_NEW | SECPKG_CONTEXT_EXPORT.DELETE_OLD);
            const imported = await serverB.sspi.importSecurityContext(name, exported.packedContext!);
            assert.equal(statusName(imported.status), 'SEC_E_OK');
            // The client is at sequence number 1; B, reset, expects 0.
            assert.equal(await signAcross(client, c, serverB, imported.context!, trailer, 'to B'), 'SEC_E_OUT_OF_SEQUENCE');
            await serverB.sspi.deleteSecurityContext(imported.context!);
            await client.sspi.deleteSecurityContext(c);
            await client.sspi.freeCredentialsHandle(pair.clientCredential);
            await serverA.sspi.freeCredentialsHandle(pair.serverCredential);
          });
        });
      }

      it('traces the handoff: the API calls, the package entry points on both sides and the LSA events', async () => {
        const pair = await establish(client, serverA, { package: 'NTLM' });
        const exported = await serverA.sspi.exportSecurityContext(pair.serverContext!, SECPKG_CONTEXT_EXPORT.DELETE_OLD);
        const imported = await serverB.sspi.importSecurityContext('NTLM', exported.packedContext!);
        assert.equal(statusName(imported.status), 'SEC_E_OK');
        const events = await machine.events();
        const seen = (process: string, call: string): boolean => events.some((e) => e.process === process && e.call === call);
        assert.ok(seen('server-a', 'ExportSecurityContext'));
        assert.ok(seen('server-a', 'SpExportSecurityContext'));
        assert.ok(seen('server-b', 'ImportSecurityContext'));
        assert.ok(seen('server-b', 'SpImportSecurityContext'));
        const exportedEvent = events.findLast((e) => e.call === 'ContextExported');
        assert.match(exportedEvent?.detail ?? '', /^NTLM context, \d+ bytes of package state, for any process; SECPKG_CONTEXT_EXPORT_DELETE_OLD$/);
        assert.match(
          events.findLast((e) => e.call === 'ContextImported')?.detail ?? '',
          /^NTLM context from process \d+; SpImportSecurityContext gets \d+ bytes$/,
        );
        await serverB.sspi.deleteSecurityContext(imported.context!);
        await client.sspi.deleteSecurityContext(pair.clientContext!);
        await client.sspi.freeCredentialsHandle(pair.clientCredential);
        await serverA.sspi.freeCredentialsHandle(pair.serverCredential);
      });
    },
  );
