// A package that throws, or rejects, with a value that cannot be turned into text (an object with
// no prototype, a Proxy whose traps throw, a revoked Proxy, an object whose toString throws, an
// Error whose properties throw when read, an Error whose cause is such a value, a symbol), in a
// real machine: in the LSA-mode half (SpInitLsaModeContext, in the LSA) and in the user-mode half
// (the message functions, in an app process). Each call fails alone, as any throw does: the caller
// gets SEC_E_INTERNAL_ERROR with a PACKAGE_THREW cause that describes the value, the entry point's
// return is in the trace, and the LSA and the process keep serving.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECPKG_CRED } from '../../headers/sspi.js';
import type { TraceEvent } from '../../ipc/trace.js';
import { ODD_MODES, ODD_NAME, ODD_THROWN, oddSequence, oddTarget, type OddThrown } from '../fixtures/packages/odd-values.js';
import { MESSAGE_FUNCTIONS, sealBuffers, status, text } from '../helpers/calls.js';
import { ALICE, establish, fixturePackage, withMachine } from '../helpers/machine.js';

/** How the caller's cause describes each thrown value, after "<package>: <entry> threw: ". */
const DESCRIBED: Record<OddThrown, string> = {
  'null-prototype': 'an object with no prototype',
  proxy: 'a Proxy that cannot be turned into text',
  'revoked-proxy': 'a Proxy that cannot be turned into text',
  'throwing-to-string': 'an object that cannot be turned into text ([object Object])',
  'error-with-odd-cause': 'OddValues: the outer error',
  'error-with-throwing-properties': 'an Error whose message cannot be read',
  symbol: 'Symbol(OddValues: a thrown symbol)',
};

/** What the trace's return event adds after the message: an Error's causes, described as the value is. */
const CAUSES: Partial<Record<OddThrown, string>> = { 'error-with-odd-cause': ' <- an object with no prototype' };

/** The return events of `entry` in `process` that carry this fault, as the trace has them. */
function returns(events: TraceEvent[], process: string, entry: string, kind: OddThrown): TraceEvent[] {
  const detail = `PACKAGE_THREW: ${ODD_NAME}: ${entry} threw: ${DESCRIBED[kind]}${CAUSES[kind] ?? ''}`;
  return events.filter((e) => e.process === process && e.call === entry && e.phase === 'return' && e.status === 'SEC_E_INTERNAL_ERROR' && e.detail === detail);
}

describe('a package that throws a value that cannot be turned into text', () => {
  it('in its LSA-mode half, sync or async: the caller gets SEC_E_INTERNAL_ERROR and PACKAGE_THREW describing it, the trace its return, and the LSA keeps serving', async () => {
    await withMachine({ packages: ['example', fixturePackage('odd-values')], trace: true }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const cred = await client.sspi.acquireCredentialsHandle({ package: ODD_NAME, credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      assert.equal(status(cred), 'SEC_E_OK');
      for (const kind of ODD_THROWN)
        for (const mode of ODD_MODES) {
          const r = await client.sspi.initializeSecurityContext({ credential: cred.credential!, contextReq: 0, targetName: oddTarget(kind, mode) });
          const what = `${kind}, ${mode}: ${JSON.stringify(r.cause)}`;
          assert.equal(status(r), 'SEC_E_INTERNAL_ERROR', what);
          assert.equal(r.cause?.code, 'PACKAGE_THREW', what);
          assert.equal(r.cause?.message, `${ODD_NAME}: SpInitLsaModeContext threw: ${DESCRIBED[kind]}`, what);
          if (kind === 'error-with-odd-cause') assert.equal(r.cause?.cause?.cause?.message, 'an object with no prototype', what);
          assert.equal(r.context, undefined, 'no handle is left behind');
        }
      const events = await machine.events();
      for (const kind of ODD_THROWN)
        assert.equal(
          returns(events, 'lsa', 'SpInitLsaModeContext', kind).length,
          kind === 'proxy' || kind === 'revoked-proxy' ? 4 : 2,
          `the LSA traced the return of each throw of ${kind}`,
        );
      // The LSA serves on: the same package, and another.
      assert.ok((await establish(client, server, { package: ODD_NAME })).ok);
      assert.ok((await establish(client, server)).ok);
    });
  });

  it('in its user-mode half, sync or async, in every message function: the app gets SEC_E_INTERNAL_ERROR and PACKAGE_THREW describing it, the trace its return, and the process keeps serving', async () => {
    await withMachine({ packages: ['example', fixturePackage('odd-values')], trace: true }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, { package: ODD_NAME });
      assert.ok(done.ok, JSON.stringify(done.steps));
      const context = done.clientContext!;
      for (const { entry, call } of MESSAGE_FUNCTIONS)
        for (const kind of ODD_THROWN)
          for (const mode of ODD_MODES) {
            const r = await call(client, context, oddSequence(kind, mode));
            const what = `${entry}, ${kind}, ${mode}: ${JSON.stringify(r.cause)}`;
            assert.equal(status(r), 'SEC_E_INTERNAL_ERROR', what);
            assert.equal(r.cause?.code, 'PACKAGE_THREW', what);
            assert.equal(r.cause?.message, `${ODD_NAME}: ${entry} threw: ${DESCRIBED[kind]}`, what);
          }
      const events = await machine.events();
      for (const { entry } of MESSAGE_FUNCTIONS)
        for (const kind of ODD_THROWN)
          assert.equal(
            returns(events, 'client', entry, kind).length,
            kind === 'proxy' || kind === 'revoked-proxy' ? 4 : 2,
            `the client traced the return of each throw of ${kind} in ${entry}`,
          );
      // The context still protects messages both ways, and the process serves another package.
      const sealed = await client.sspi.encryptMessage(context, 0, sealBuffers(text('still serving')), 0);
      assert.equal(status(sealed), 'SEC_E_OK');
      const opened = await server.sspi.decryptMessage(done.serverContext!, sealed.message, 0);
      assert.equal(status(opened), 'SEC_E_OK');
      assert.equal(new TextDecoder().decode(opened.message[1]!.pvBuffer), 'still serving');
      assert.ok((await establish(client, server)).ok);
    });
  });
});
