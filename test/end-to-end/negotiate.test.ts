// End to end: Negotiate across the workers. The client, the server and the LSA each on its own
// thread; Negotiate in the LSA drives NTLM through the LSA, and the trace shows both layers; the
// context mapped into each process is NTLM's, under a handle that still names Negotiate; the
// nested handles go with their contexts, or with the process that dies; an exported context takes
// them along.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CONTEXT_EXPORT, SECPKG_CRED, SECPKG_NEGOTIATION, type SecBuffer } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { unpackNegotiationToken } from '../../packages/negotiate/wire.js';
import { DEFAULT_CLIENT_REQ } from '../../client-proc/app.js';
import { DEFAULT_SERVER_REQ } from '../../server-proc/app.js';
import { ALICE, establish, withMachine } from '../helpers/machine.js';
import { betweenApps, findSecret, lsaToProcess } from '../helpers/scan.js';
import { ntowfv1 } from '../../packages/ntlm/wire.js';
import type { TapRecord } from '../../ipc/trace.js';
import type { CtxtHandle } from '../../sspi/handles.js';
import type { AppProcess } from '../../machine/machine.js';

const ACCOUNTS = ['alice:Passw0rd!'];

describe('end to end: Negotiate', () => {
  it('runs the default apps, sealed and signed messages included, with NTLM under Negotiate in the trace', async () => {
    await withMachine({ trace: true, accounts: ACCOUNTS }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const serving = server.runApp(null, { name: 'svc', package: 'Negotiate' });
      const result = await client.runApp(null, { server: 'svc', package: 'Negotiate', user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!', messages: 2 });
      assert.equal(result.statusName, 'SEC_E_OK', result.detail);
      assert.equal((await serving).statusName, 'SEC_E_OK');

      const events = await machine.events();
      const lsa = events.filter((e) => e.process === 'lsa' && (e.call === 'SpInitLsaModeContext' || e.call === 'SpAcceptLsaModeContext'));
      // Every Negotiate call has NTLM's own call inside it, for the same process.
      const sequence = lsa.map((e) => `${e.phase} ${e.call} ${e.phase === 'call' ? e.detail!.split(',')[0] : e.status}`);
      assert.deepEqual(sequence.slice(0, 4), [
        'call SpInitLsaModeContext Negotiate',
        'call SpInitLsaModeContext NTLM',
        'return SpInitLsaModeContext SEC_I_CONTINUE_NEEDED',
        'return SpInitLsaModeContext SEC_I_CONTINUE_NEEDED',
      ]);
      assert.equal(lsa.filter((e) => e.phase === 'call' && e.detail?.startsWith('NTLM, for Negotiate')).length, 5, "NTLM's five legs, each for Negotiate");
      assert.equal(
        lsa.filter((e) => e.phase === 'call' && e.detail?.startsWith('Negotiate')).length,
        5,
        "Negotiate's five legs (the client's third verifies the server's mechListMIC)",
      );
      const mapped = events.filter((e) => e.call === 'MappedContext');
      assert.equal(mapped.length, 2);
      for (const e of mapped) assert.match(e.detail ?? '', /NTLM's ContextData .* for its Negotiate context/);
      const userInit = events.filter((e) => e.call === 'SpInitUserModeContext' && e.phase === 'call');
      assert.deepEqual(new Set(userInit.map((e) => e.detail?.split(',')[0])), new Set(['NTLM']));
      assert.deepEqual((await client.stats()).userMode.loaded, ['NTLM']);
    });
  });

  it('answers SECPKG_ATTR_NEGOTIATION_INFO and PACKAGE_INFO with NTLM from the process, under a handle that names Negotiate, and protects messages with no LPC', async () => {
    await withMachine({ accounts: ACCOUNTS }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, { package: 'Negotiate' });
      assert.ok(done.ok, JSON.stringify(done.steps));
      assert.deepEqual(
        done.steps.map((s) => `${s.api} ${s.status}`),
        [
          'InitializeSecurityContext SEC_I_CONTINUE_NEEDED',
          'AcceptSecurityContext SEC_I_CONTINUE_NEEDED',
          'InitializeSecurityContext SEC_I_CONTINUE_NEEDED',
          'AcceptSecurityContext SEC_E_OK',
          'InitializeSecurityContext SEC_E_OK',
        ],
      );
      const report = await machine.lsa.packages();
      const ids = new Map(report.loaded.map((p) => [p.name, p.id]));
      assert.equal(done.clientContext!.dwLower, ids.get('Negotiate'));
      for (const [proc, ctx] of [
        [client, done.clientContext!],
        [server, done.serverContext!],
      ] as const) {
        const nego = await proc.sspi.queryContextAttributes(ctx, SECPKG_ATTR.NEGOTIATION_INFO);
        assert.equal(nego.buffer?.PackageInfo.Name, 'NTLM');
        assert.equal(nego.buffer?.NegotiationState, SECPKG_NEGOTIATION.COMPLETE);
        assert.equal((await proc.sspi.queryContextAttributes(ctx, SECPKG_ATTR.PACKAGE_INFO)).buffer?.PackageInfo.Name, 'NTLM');
      }
      const before = (await client.stats()).lpc;
      const data = new TextEncoder().encode('over Negotiate');
      const sealed = await client.sspi.encryptMessage(
        done.clientContext!,
        0,
        [
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) },
          { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(data) },
        ],
        0,
      );
      assert.equal(statusName(sealed.status), 'SEC_E_OK');
      const opened = await server.sspi.decryptMessage(done.serverContext!, sealed.message, 0);
      assert.equal(statusName(opened.status), 'SEC_E_OK');
      assert.deepEqual(opened.message[1]!.pvBuffer, data);
      const after = (await client.stats()).lpc;
      assert.equal(after.sent - before.sent, 0, 'no LPC message for sealing');
    });
  });

  it('takes a client that skips SPNEGO (the NTLM package) as NTLM, messages included', async () => {
    await withMachine({ accounts: ACCOUNTS }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const serving = server.runApp(null, { name: 'svc', package: 'Negotiate' });
      const result = await client.runApp(null, { server: 'svc', package: 'NTLM', user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!', messages: 2 });
      assert.equal(result.statusName, 'SEC_E_OK', result.detail);
      assert.equal((await serving).statusName, 'SEC_E_OK');
    });
  });

  it('lets the server speak first: AcceptSecurityContext with no input token gives the NegTokenInit2 the client starts from', async () => {
    await withMachine({ accounts: ACCOUNTS }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const s = await server.sspi.acquireCredentialsHandle({ package: 'Negotiate', credentialUse: SECPKG_CRED.INBOUND });
      const c = await client.sspi.acquireCredentialsHandle({ package: 'Negotiate', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      const hint = await server.sspi.acceptSecurityContext({ credential: s.credential!, input: [], contextReq: DEFAULT_SERVER_REQ });
      assert.equal(statusName(hint.status), 'SEC_I_CONTINUE_NEEDED');
      const { token } = unpackNegotiationToken(hint.output[0]!.pvBuffer);
      assert.ok(token.kind === 'NegTokenInit' && token.negHints?.hintName === 'not_defined_in_RFC4178@please_ignore');
      let input: SecBuffer[] = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: hint.output[0]!.pvBuffer }];
      let clientCtx: CtxtHandle | undefined;
      const serverCtx = hint.context!;
      for (let leg = 0; leg < 4; leg++) {
        const ic = await client.sspi.initializeSecurityContext({
          credential: c.credential!,
          context: clientCtx ?? null,
          contextReq: DEFAULT_CLIENT_REQ,
          input,
        });
        clientCtx = ic.context;
        if (statusName(ic.status) === 'SEC_E_OK') break;
        assert.equal(statusName(ic.status), 'SEC_I_CONTINUE_NEEDED');
        const as = await server.sspi.acceptSecurityContext({ context: serverCtx, input: ic.output, contextReq: DEFAULT_SERVER_REQ });
        assert.ok(['SEC_I_CONTINUE_NEEDED', 'SEC_E_OK'].includes(statusName(as.status)), statusName(as.status));
        input = as.output;
      }
      const nego = await client.sspi.queryContextAttributes(clientCtx!, SECPKG_ATTR.NEGOTIATION_INFO);
      assert.equal(nego.buffer?.NegotiationState, SECPKG_NEGOTIATION.COMPLETE);
    });
  });

  it('lets the password cross only from the client into the LSA (NTLM reading it for Negotiate), and the NT hash never', async () => {
    await withMachine({ accounts: ACCOUNTS, trace: true }, async (machine) => {
      machine.tap(true);
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const serving = server.runApp(null, { name: 'svc', package: 'Negotiate' });
      const result = await client.runApp(null, { server: 'svc', package: 'Negotiate', user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!', messages: 2 });
      assert.equal(result.statusName, 'SEC_E_OK', result.detail);
      await serving;
      const taps = await machine.taps();
      const intoLsa = (t: TapRecord): boolean => {
        const m = t.message as { kind?: string; op?: string };
        return t.channel.startsWith('lpc:') && !lsaToProcess(t) && m.kind === 'return' && m.op === 'CopyFromClientBuffer';
      };
      assert.ok(taps.some(intoLsa) && taps.some(betweenApps));
      for (const t of [...taps, ...(await machine.events()).map((e) => ({ process: e.process, channel: 'trace', direction: 'send' as const, message: e }))]) {
        assert.deepEqual(findSecret(t.message, ntowfv1('Passw0rd!')), [], `NT hash in ${t.process} ${t.channel}`);
        if (!intoLsa(t)) assert.deepEqual(findSecret(t.message, 'Passw0rd!'), [], `password in ${t.process} ${t.direction} ${t.channel}`);
      }
    });
  });

  it("releases NTLM's credentials and contexts with Negotiate's, and with a process that dies mid-handshake", async () => {
    await withMachine({ accounts: ACCOUNTS }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, { package: 'Negotiate' });
      assert.ok(done.ok);
      assert.deepEqual((await machine.lsa.stats()).nested, { credentials: 2, contexts: 2 });
      await client.sspi.deleteSecurityContext(done.clientContext!);
      await server.sspi.deleteSecurityContext(done.serverContext!);
      await client.sspi.freeCredentialsHandle(done.clientCredential);
      assert.deepEqual((await machine.lsa.stats()).nested, { credentials: 1, contexts: 0 });

      // A client that dies after its first leg: its Negotiate context, NTLM's context and credential go with it.
      const doomed = await machine.spawn('client');
      const c = await doomed.sspi.acquireCredentialsHandle({ package: 'Negotiate', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      const first = await doomed.sspi.initializeSecurityContext({ credential: c.credential!, contextReq: DEFAULT_CLIENT_REQ });
      assert.equal(statusName(first.status), 'SEC_I_CONTINUE_NEEDED');
      assert.deepEqual((await machine.lsa.stats()).nested, { credentials: 2, contexts: 1 });
      const reaped = await machine.kill(doomed);
      assert.deepEqual({ contexts: reaped?.contexts, credentials: reaped?.credentials }, { contexts: 1, credentials: 1 });
      assert.deepEqual((await machine.lsa.stats()).nested, { credentials: 1, contexts: 0 });
      await server.sspi.freeCredentialsHandle(done.serverCredential);
      const stats = await machine.lsa.stats();
      assert.deepEqual(
        { nested: stats.nested, contexts: stats.contexts, credentials: stats.credentials },
        { nested: { credentials: 0, contexts: 0 }, contexts: 0, credentials: 0 },
      );
    });
  });

  it("hands a Negotiate context over to another server process (ExportSecurityContext), NTLM's context beneath it going along", async () => {
    await withMachine({ accounts: ACCOUNTS }, async (machine) => {
      const client = await machine.spawn('client');
      const serverA = await machine.spawn('server', { name: 'server-a' });
      const serverB = await machine.spawn('server', { name: 'server-b' });
      const done = await establish(client, serverA, { package: 'Negotiate' });
      assert.ok(done.ok);
      const c = done.clientContext!;
      const sizes = await client.sspi.queryContextAttributes(c, SECPKG_ATTR.SIZES);
      const trailer = sizes.buffer!.cbSecurityTrailer;
      const sealAcross = async (from: typeof client, fromContext: CtxtHandle, to: typeof client, toContext: CtxtHandle, text: string): Promise<string> => {
        const message: SecBuffer[] = [
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(trailer) },
          { BufferType: SECBUFFER.DATA, pvBuffer: new TextEncoder().encode(text) },
        ];
        const sealed = await from.sspi.encryptMessage(fromContext, 0, message, 0);
        assert.equal(statusName(sealed.status), 'SEC_E_OK');
        const opened = await to.sspi.decryptMessage(toContext, sealed.message, 0);
        assert.equal(statusName(opened.status), 'SEC_E_OK', `${to.name} opens "${text}"`);
        return new TextDecoder().decode(opened.message.find((b) => b.BufferType === SECBUFFER.DATA)!.pvBuffer);
      };
      assert.equal(await sealAcross(client, c, serverA, done.serverContext!, 'to A'), 'to A');

      const exported = await serverA.sspi.exportSecurityContext(done.serverContext!, SECPKG_CONTEXT_EXPORT.DELETE_OLD, { importingProcess: serverB.pid });
      assert.equal(statusName(exported.status), 'SEC_E_OK');
      // The export is Negotiate's (the handle's package), the state in it NTLM's.
      assert.equal(statusName((await serverB.sspi.importSecurityContext('NTLM', exported.packedContext!)).status), 'SEC_E_INVALID_TOKEN');
      const imported = await serverB.sspi.importSecurityContext('Negotiate', exported.packedContext!);
      assert.equal(statusName(imported.status), 'SEC_E_OK');
      const b = imported.context!;

      // A exits: what Negotiate holds of NTLM for the context B now has stays.
      const reaped = await machine.kill(serverA);
      assert.equal(reaped?.nested, undefined, 'no nested handle released with A');
      assert.deepEqual((await machine.lsa.stats()).nested, { credentials: 2, contexts: 2 });

      assert.equal(await sealAcross(client, c, serverB, b, 'to B'), 'to B');
      assert.equal(await sealAcross(serverB, b, client, c, 'B answers'), 'B answers');
      const info = await serverB.sspi.queryContextAttributes(b, SECPKG_ATTR.NEGOTIATION_INFO);
      assert.equal(info.buffer?.PackageInfo.Name, 'NTLM');
      assert.equal(info.buffer?.NegotiationState, SECPKG_NEGOTIATION.COMPLETE);

      assert.equal(statusName((await serverB.sspi.deleteSecurityContext(b)).status), 'SEC_E_OK');
      assert.equal(statusName((await client.sspi.deleteSecurityContext(c)).status), 'SEC_E_OK');
      await client.sspi.freeCredentialsHandle(done.clientCredential);
      const stats = await machine.lsa.stats();
      assert.deepEqual(
        { nested: stats.nested, contexts: stats.contexts, credentials: stats.credentials, exports: stats.exports },
        { nested: { credentials: 0, contexts: 0 }, contexts: 0, credentials: 0, exports: 0 },
      );
    });
  });

  it('lets NTLM be reloaded under Negotiate: the contexts and credentials Negotiate held of the old version are closed with it, and new handshakes reach the new one', async () => {
    await withMachine({ accounts: ACCOUNTS }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, { package: 'Negotiate' });
      assert.ok(done.ok);
      assert.deepEqual((await machine.lsa.stats()).nested, { credentials: 2, contexts: 2 });
      // A client in the middle of a handshake when NTLM changes.
      const half = await client.sspi.initializeSecurityContext({ credential: done.clientCredential, contextReq: DEFAULT_CLIENT_REQ });
      assert.equal(statusName(half.status), 'SEC_I_CONTINUE_NEEDED');
      assert.deepEqual((await machine.lsa.stats()).nested, { credentials: 2, contexts: 3 });

      const report = await machine.lsa.reloadPackage('ntlm');
      assert.deepEqual(
        report.unloaded.map((u) => [u.name, u.nested]),
        [['NTLM', 5]],
      );
      assert.deepEqual((await machine.lsa.stats()).nested, { credentials: 0, contexts: 0 });

      // The completed contexts live on in the processes (the old NTLM's user-mode half) and go cleanly.
      const sizes = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.SIZES);
      const message: SecBuffer[] = [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(sizes.buffer!.cbSecurityTrailer) },
        { BufferType: SECBUFFER.DATA, pvBuffer: new TextEncoder().encode('after the reload') },
      ];
      const sealed = await client.sspi.encryptMessage(done.clientContext!, 0, message, 0);
      assert.equal(statusName((await server.sspi.decryptMessage(done.serverContext!, sealed.message, 0)).status), 'SEC_E_OK');
      // The half-done one cannot go on: its NTLM context went with the old version.
      const server2 = await establishServerLeg(server, half.output);
      const next = await client.sspi.initializeSecurityContext({ context: half.context!, input: server2.token, contextReq: DEFAULT_CLIENT_REQ });
      assert.equal(statusName(next.status), 'SEC_E_INVALID_HANDLE');
      for (const [p, h] of [
        [client, done.clientContext!],
        [server, done.serverContext!],
        [client, half.context!],
        [server, server2.context],
      ] as const)
        assert.equal(statusName((await p.sspi.deleteSecurityContext(h)).status), 'SEC_E_OK');

      // A new handshake with the same Negotiate credentials reaches the new NTLM.
      const again = await establish(client, server, { package: 'Negotiate' });
      assert.ok(again.ok, JSON.stringify(again.steps));
      for (const [p, h] of [
        [client, again.clientContext!],
        [server, again.serverContext!],
      ] as const)
        await p.sspi.deleteSecurityContext(h);
      for (const [p, c] of [
        [client, done.clientCredential],
        [server, done.serverCredential],
        [client, again.clientCredential],
        [server, again.serverCredential],
      ] as const)
        await p.sspi.freeCredentialsHandle(c);
      const stats = await machine.lsa.stats();
      assert.deepEqual(
        { nested: stats.nested, contexts: stats.contexts, credentials: stats.credentials },
        { nested: { credentials: 0, contexts: 0 }, contexts: 0, credentials: 0 },
      );
    });
  });
});

/** The server's AcceptSecurityContext on a client's first token: its new context and the token it answers. */
async function establishServerLeg(server: AppProcess, clientOutput: SecBuffer[]): Promise<{ context: CtxtHandle; token: SecBuffer[] }> {
  const credential = await server.sspi.acquireCredentialsHandle({ package: 'Negotiate', credentialUse: SECPKG_CRED.INBOUND });
  const accepted = await server.sspi.acceptSecurityContext({
    credential: credential.credential!,
    input: clientOutput.filter((b) => b.BufferType === SECBUFFER.TOKEN),
    contextReq: DEFAULT_SERVER_REQ,
  });
  assert.equal(statusName(accepted.status), 'SEC_I_CONTINUE_NEEDED');
  await server.sspi.freeCredentialsHandle(credential.credential!);
  return { context: accepted.context!, token: accepted.output.filter((b) => b.BufferType === SECBUFFER.TOKEN) };
}
