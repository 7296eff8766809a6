// What the LSA does with a handshake result it cannot hand on, in a real machine: a package whose
// SpInitLsaModeContext or SpAcceptLsaModeContext leaves an output buffer that is no SecBuffer (a
// string or null for pvBuffer, null or 42 for the buffer, a getter that throws, a Proxy, a buffer
// more than the caller gave) or answers a ContextData that is no Uint8Array or is larger than
// MAX_CONTEXT_DATA fails that call with SEC_E_INTERNAL_ERROR and a PACKAGE_BAD_RESULT naming the
// package, the entry point and what was wrong, rather than a SEC_I_CONTINUE_NEEDED with no token
// (the peer then waits for one), a bare "failed in the peer", or the user-mode half's failure.
// A first call's context goes again, in the LSA and in the package; the LSA serves on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_CRED, tokenBytes } from '../../headers/sspi.js';
import { MAX_CONTEXT_DATA } from '../../lsa/dispatch.js';
import type { AppProcess, Machine } from '../../machine/machine.js';
import type { ContextResult } from '../../sspi/secur32.js';
import { CONTEXT_DATA_LIMIT, type Mode } from '../fixtures/packages/bad-context-result.js';
import { status } from '../helpers/calls.js';
import { establish, fixturePackage, withMachine } from '../helpers/machine.js';

const PACKAGE = 'BadResult';

/** What the cause says was wrong, after "BadResult: <entry> returned <status> with ". */
const OUTPUT_LEFT: Partial<Record<Mode, string>> = {
  'pv-string': 'output buffer 0 whose pvBuffer is a string, not a Uint8Array',
  'pv-null': 'output buffer 0 whose pvBuffer is null, not a Uint8Array',
  'entry-null': 'output buffer 0 that is null, not a SecBuffer',
  'entry-42': 'output buffer 0 that is a number, not a SecBuffer',
  'pv-getter': 'output buffer 0 that cannot be read',
  'entry-proxy': 'output buffer 0 that is a Proxy, not a SecBuffer',
  'extra-buffer': '2 output buffers where it was given 1',
  'type-string': 'output buffer 0 whose BufferType is a string, not a number',
  'result-proxy': 'a ContextAttributes that cannot be read',
  'attributes-symbol': 'a ContextAttributes that is a symbol, not a number',
};

const CONTEXT_DATA_LEFT: Partial<Record<Mode, string>> = {
  'contextdata-string': 'a ContextData that is a string, not a Uint8Array',
  'contextdata-getter': 'a ContextData that cannot be read',
  'contextdata-over': `a ContextData of ${MAX_CONTEXT_DATA + 1} bytes, more than the ${MAX_CONTEXT_DATA} the LSA delivers to a process (MAX_CONTEXT_DATA)`,
  'contextdata-huge': `a ContextData of ${64 << 20} bytes, more than the ${MAX_CONTEXT_DATA} the LSA delivers to a process (MAX_CONTEXT_DATA)`,
};

interface Processes {
  machine: Machine;
  client: AppProcess;
  server: AppProcess;
}

async function withPackage(fn: (p: Processes) => Promise<void>): Promise<void> {
  await withMachine({ packages: ['example', fixturePackage('bad-context-result')], packageCallTimeoutMs: 5000 }, async (machine) => {
    const server = await machine.spawn('server');
    const client = await machine.spawn('client');
    await fn({ machine, client, server });
  });
}

/** The contexts the package itself holds (its LsaApCallPackageUntrusted says). */
async function packageContexts(client: AppProcess): Promise<number> {
  const { lsaHandle } = await client.sspi.lsaConnectUntrusted();
  const id = (await client.sspi.lsaLookupAuthenticationPackage(lsaHandle!, PACKAGE)).authenticationPackage!;
  const r = await client.sspi.lsaCallAuthenticationPackage(lsaHandle!, id, Uint8Array.from([0]));
  return (JSON.parse(new TextDecoder().decode(r.returnBuffer)) as { contexts: number }).contexts;
}

/** The handshake's legs as far as they go, InitializeSecurityContext named by `target` each time. */
async function handshake(client: AppProcess, server: AppProcess, target: string): Promise<{ legs: ContextResult[]; release: () => Promise<void> }> {
  const c = await client.sspi.acquireCredentialsHandle({ package: PACKAGE, credentialUse: SECPKG_CRED.OUTBOUND });
  const s = await server.sspi.acquireCredentialsHandle({ package: PACKAGE, credentialUse: SECPKG_CRED.INBOUND });
  const legs: ContextResult[] = [];
  const release = async (): Promise<void> => {
    for (const [proc, leg] of [
      [client, legs[0]],
      [server, legs[1]],
    ] as const)
      if (leg?.context !== undefined) assert.equal(status(await proc.sspi.deleteSecurityContext(leg.context)), 'SEC_E_OK');
    await client.sspi.freeCredentialsHandle(c.credential!);
    await server.sspi.freeCredentialsHandle(s.credential!);
  };
  const first = await client.sspi.initializeSecurityContext({ credential: c.credential!, contextReq: 0, targetName: target });
  legs.push(first);
  const hello = tokenBytes(first.output);
  if (status(first) !== 'SEC_I_CONTINUE_NEEDED' || hello === undefined) return { legs, release };
  const accepted = await server.sspi.acceptSecurityContext({
    credential: s.credential!,
    input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: hello }],
    contextReq: 0,
  });
  legs.push(accepted);
  const done = tokenBytes(accepted.output);
  if (status(accepted) !== 'SEC_E_OK' || done === undefined) return { legs, release };
  legs.push(
    await client.sspi.initializeSecurityContext({
      credential: c.credential!,
      context: first.context!,
      contextReq: 0,
      targetName: target,
      input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: done }],
    }),
  );
  return { legs, release };
}

function assertBadResult(r: ContextResult, message: string, what: string): void {
  const detail = `${what}: ${status(r)} ${JSON.stringify(r.cause)}`;
  assert.equal(status(r), 'SEC_E_INTERNAL_ERROR', detail);
  assert.equal(r.cause?.code, 'PACKAGE_BAD_RESULT', detail);
  assert.equal(r.cause?.message, message, detail);
  assert.deepEqual(r.output, [], `${what}: none of what the package left is handed on`);
}

describe('a handshake result the LSA cannot hand on', () => {
  it('SpInitLsaModeContext leaving an output buffer that is no SecBuffer, or an unreadable result: SEC_E_INTERNAL_ERROR naming the entry and the buffer; its context goes, in the LSA and the package', async () => {
    await withPackage(async ({ machine, client, server }) => {
      const before = await machine.lsa.stats();
      for (const [mode, left] of Object.entries(OUTPUT_LEFT)) {
        const { legs, release } = await handshake(client, server, `first:${mode}`);
        assert.equal(legs.length, 1, `${mode}: the handshake stops at the client's first call`);
        assertBadResult(legs[0]!, `${PACKAGE}: SpInitLsaModeContext returned SEC_I_CONTINUE_NEEDED with ${left}`, mode);
        assert.equal(legs[0]!.context, undefined, `${mode}: no handle is left behind`);
        await release();
      }
      // A status that cannot be read is no status: a malformed result (hosting's statusOf reads it, and may contain the throw itself).
      const unread = await handshake(client, server, 'first:status-getter');
      assert.equal(status(unread.legs[0]!), 'SEC_E_INTERNAL_ERROR');
      assert.equal(unread.legs[0]!.cause?.code, 'PACKAGE_BAD_RESULT');
      assert.match(
        unread.legs[0]!.cause?.message ?? '',
        /^BadResult: SpInitLsaModeContext returned (a malformed result|a result whose status cannot be read)$/,
      );
      await unread.release();
      const after = await machine.lsa.stats();
      assert.equal(after.contexts, before.contexts, 'no context is left in the LSA');
      assert.equal(await packageContexts(client), 0, 'the package was told to delete each context it made (SpDeleteContext)');
      // The LSA, and the package, serve on.
      const { legs, release } = await handshake(client, server, 'fine');
      assert.deepEqual(legs.map(status), ['SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_OK']);
      await release();
      assert.ok((await establish(client, server)).ok, 'another package is served as ever');
    });
  });

  it('SpAcceptLsaModeContext leaving an output buffer that is no SecBuffer: the server gets SEC_E_INTERNAL_ERROR naming the entry and the buffer, not a SEC_E_OK with no token', async () => {
    await withPackage(async ({ machine, client, server }) => {
      const before = await machine.lsa.stats();
      for (const mode of ['pv-string', 'pv-null', 'entry-null', 'entry-42', 'pv-getter', 'entry-proxy'] as const) {
        const { legs, release } = await handshake(client, server, `accept:${mode}`);
        assert.equal(status(legs[0]!), 'SEC_I_CONTINUE_NEEDED', mode);
        assert.equal(legs.length, 2, mode);
        assertBadResult(legs[1]!, `${PACKAGE}: SpAcceptLsaModeContext returned SEC_E_OK with ${OUTPUT_LEFT[mode]!}`, mode);
        assert.equal(legs[1]!.context, undefined, `${mode}: no server handle is left behind`);
        await release();
      }
      assert.equal((await machine.lsa.stats()).contexts, before.contexts);
      assert.equal(await packageContexts(client), 0);
    });
  });

  /** The handshakes whose last call answers each of `modes`: that call fails, blamed on SpInitLsaModeContext; nothing is left behind. */
  async function lastCallRefused(modes: Partial<Record<Mode, string>>): Promise<void> {
    await withPackage(async ({ machine, client, server }) => {
      const before = await machine.lsa.stats();
      for (const [mode, left] of Object.entries(modes)) {
        const { legs, release } = await handshake(client, server, `final:${mode}`);
        assert.deepEqual(legs.slice(0, 2).map(status), ['SEC_I_CONTINUE_NEEDED', 'SEC_E_OK'], mode);
        assert.equal(legs.length, 3, mode);
        assertBadResult(legs[2]!, `${PACKAGE}: SpInitLsaModeContext returned SEC_E_OK with ${left}`, mode);
        await release();
      }
      assert.equal((await machine.lsa.stats()).contexts, before.contexts);
      assert.equal(await packageContexts(client), 0);
    });
  }

  it('a ContextData that is no Uint8Array (a string, a getter that throws): the LSA-mode half is blamed (SpInitLsaModeContext), not SpInitUserModeContext, which never runs', async () => {
    await lastCallRefused({ 'contextdata-string': CONTEXT_DATA_LEFT['contextdata-string'], 'contextdata-getter': CONTEXT_DATA_LEFT['contextdata-getter'] });
  });

  it("a ContextData past MAX_CONTEXT_DATA (1 MiB): refused in the LSA as the LSA-mode half's bad result, never delivered; one of exactly MAX_CONTEXT_DATA bytes maps", async () => {
    assert.equal(MAX_CONTEXT_DATA, CONTEXT_DATA_LIMIT, 'the fixture mirrors the bound');
    assert.equal(MAX_CONTEXT_DATA, 1 << 20);
    await lastCallRefused({ 'contextdata-huge': CONTEXT_DATA_LEFT['contextdata-huge'], 'contextdata-over': CONTEXT_DATA_LEFT['contextdata-over'] });
    await withPackage(async ({ client, server }) => {
      const { legs, release } = await handshake(client, server, 'final:contextdata-at-limit');
      assert.deepEqual(legs.map(status), ['SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_OK'], 'a ContextData of exactly MAX_CONTEXT_DATA bytes maps');
      await release();
      // The bound is on the bytes delivered: 17 bytes viewing a 64 MiB ArrayBuffer are 17 bytes.
      const view = await handshake(client, server, 'final:contextdata-view');
      assert.deepEqual(view.legs.map(status), ['SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_OK']);
      await view.release();
    });
  });
});
