// A process's own inspector (MachineOptions.inspect, `--inspect PROCESS`), driven as a debugger
// drives it: a DevTools protocol client attached to the LSA worker's ws:// URL sets a breakpoint in
// the example package's SpAcceptLsaModeContext, and the LSA alone pauses there; the handshake
// completes once resumed; while it is paused the other processes' calls meet their deadline
// (SEC_E_INTERNAL_ERROR, TIMEOUT) instead of hanging; with `wait` the LSA loads its packages only
// once a debugger has attached.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine, type MachineOptions } from '../../machine/machine.js';
import { ALICE, establish } from '../helpers/machine.js';
import { CdpClient, type CdpEvent } from '../helpers/cdp.js';
import { DEFAULT_CLIENT_REQ } from '../../client-proc/app.js';
import { DEFAULT_SERVER_REQ } from '../../server-proc/app.js';

/** The example package's LSA-mode half as the LSA imports it, and the line (0-based) of the first statement of a member of its table. */
const EXAMPLE_LSA = new URL('../../packages/example/lsa.js', import.meta.url);
const EXAMPLE_LSA_REGEX = 'packages/example/lsa\\.js$';
function firstLineOf(member: string): number {
  const lines = readFileSync(EXAMPLE_LSA, 'utf8').split('\n');
  const at = lines.findIndex((line) => line.trimStart().startsWith(`${member}: (`));
  assert.ok(at >= 0, `the example's table has ${member}`);
  return at + 1;
}

interface PausedFrame {
  functionName: string;
  location: { scriptId: string; lineNumber: number };
}
const topFrame = (event: CdpEvent): PausedFrame => (event.params.callFrames as PausedFrame[])[0]!;

/** Boots with the LSA inspected on a free port and attaches a debugger to it; `fn` runs with both, and both are closed after. */
async function withInspectedLsa(options: MachineOptions, fn: (machine: Machine, debug: CdpClient) => Promise<void>): Promise<void> {
  const opened: Array<[string, string, boolean]> = [];
  const machine = await Machine.boot({
    trace: false,
    ...options,
    inspect: [{ process: 'lsa', port: 0 }],
    onInspector: (process, url, wait) => opened.push([process, url, wait]),
  });
  let debug: CdpClient | undefined;
  try {
    assert.match(machine.lsa.inspectorUrl ?? '', /^ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+$/);
    assert.deepEqual(opened, [['lsa', machine.lsa.inspectorUrl, false]]);
    debug = await CdpClient.websocket(machine.lsa.inspectorUrl!);
    await debug.send('Debugger.enable');
    await fn(machine, debug);
  } finally {
    // A worker with a debugger attached ends only once the debugger has gone (Node's rule).
    debug?.close();
    await machine.shutdown();
  }
}

describe("a process's own inspector", () => {
  it('pauses the LSA alone at a breakpoint in the package, and the handshake completes once resumed', { timeout: 60_000 }, async () => {
    await withInspectedLsa({}, async (machine, debug) => {
      const set = await debug.send<{ breakpointId: string; locations: Array<{ scriptId: string }> }>('Debugger.setBreakpointByUrl', {
        urlRegex: EXAMPLE_LSA_REGEX,
        lineNumber: firstLineOf('AcceptLsaModeContext'),
      });
      assert.equal(set.locations.length, 1, 'the breakpoint resolves in the module the LSA loaded');
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const handshake = establish(client, server);
      // Should an assertion below fail, the machine's shutdown ends the handshake: that is not this test's failure.
      handshake.catch(() => undefined);

      const pauses: string[] = [];
      for (let leg = 0; leg < 2; leg++) {
        const paused = await debug.next('Debugger.paused');
        const frame = topFrame(paused);
        pauses.push(frame.functionName);
        assert.deepEqual(paused.params.hitBreakpoints, [set.breakpointId]);
        assert.equal(frame.location.scriptId, set.locations[0]!.scriptId, "in the example's lsa.js");
        // Only the LSA's thread is stopped: the client process answers the machine meanwhile.
        assert.equal((await client.stats()).name, 'client');
        await debug.send('Debugger.resume');
      }
      const done = await handshake;
      assert.deepEqual(pauses, ['AcceptLsaModeContext', 'AcceptLsaModeContext'], 'the server calls SpAcceptLsaModeContext on the second and the third leg');
      assert.ok(done.ok, JSON.stringify(done.steps));
      assert.deepEqual(
        done.steps.map((s) => s.status),
        ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_OK'],
      );
    });
  });

  it('fails the other processes calls with SEC_E_INTERNAL_ERROR and a TIMEOUT cause while the LSA is paused, not a hang', { timeout: 60_000 }, async () => {
    const lpcTimeoutMs = 1_000;
    await withInspectedLsa({ lpcTimeoutMs }, async (machine, debug) => {
      await debug.send('Debugger.setBreakpointByUrl', { urlRegex: EXAMPLE_LSA_REGEX, lineNumber: firstLineOf('AcceptLsaModeContext') });
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const clientCredential = (await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE }))
        .credential!;
      const serverCredential = (await server.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.INBOUND })).credential!;
      const hello = await client.sspi.initializeSecurityContext({ credential: clientCredential, contextReq: DEFAULT_CLIENT_REQ });
      assert.equal(statusName(hello.status), 'SEC_I_CONTINUE_NEEDED');

      const accepting = server.sspi.acceptSecurityContext({ credential: serverCredential, contextReq: DEFAULT_SERVER_REQ, input: hello.output });
      assert.equal(topFrame(await debug.next('Debugger.paused')).functionName, 'AcceptLsaModeContext');
      // The LSA is stopped at the breakpoint: the client's next call gets no answer and fails at its deadline.
      const started = performance.now();
      const query = await client.sspi.querySecurityPackageInfo('Example');
      const waited = performance.now() - started;
      assert.equal(statusName(query.status), 'SEC_E_INTERNAL_ERROR');
      assert.equal(query.cause?.code, 'TIMEOUT', JSON.stringify(query.cause));
      assert.ok(waited >= lpcTimeoutMs - 50, `it waited its deadline (${Math.round(waited)} ms)`);
      // The server's call, which the LSA is serving, fails likewise.
      const accepted = await accepting;
      assert.equal(statusName(accepted.status), 'SEC_E_INTERNAL_ERROR');
      assert.equal(accepted.cause?.code, 'TIMEOUT');

      // Resumed, the LSA serves again.
      await debug.send('Debugger.resume');
      assert.equal(statusName((await client.sspi.querySecurityPackageInfo('Example')).status), 'SEC_E_OK');
    });
  });

  it('with wait, loads the packages only once a debugger has attached and let it run', { timeout: 60_000 }, async () => {
    let debug: CdpClient | undefined;
    let attached: Promise<void> | undefined;
    const pauses: string[] = [];
    const booting = Machine.boot({
      trace: false,
      inspect: [{ process: 'lsa', port: 0, wait: true }],
      onInspector: (_process, url, wait) => {
        assert.equal(wait, true);
        attached = (async () => {
          debug = await CdpClient.websocket(url);
          await debug.send('Debugger.enable');
          // The package is not loaded yet: the breakpoint waits for its module.
          await debug.send('Debugger.setBreakpointByUrl', { urlRegex: EXAMPLE_LSA_REGEX, lineNumber: firstLineOf('Initialize') });
          await debug.send('Runtime.runIfWaitingForDebugger');
          pauses.push(topFrame(await debug.next('Debugger.paused')).functionName);
          await debug.send('Debugger.resume');
        })();
      },
    });
    let machine: Machine | undefined;
    try {
      machine = await booting;
      await attached;
      assert.deepEqual(pauses, ['Initialize'], "the debugger stopped in the example's SpInitialize");
      assert.deepEqual(
        (await machine.lsa.packages()).loaded.map((p) => p.name),
        ['Example', 'NTLM', 'Negotiate'],
      );
    } finally {
      debug?.close();
      await machine?.shutdown();
    }
  });

  it("opens an app process's inspector in that process's own thread", { timeout: 60_000 }, async () => {
    const machine = await Machine.boot({ trace: false, inspect: [{ process: 'client', port: 0 }] });
    let debug: CdpClient | undefined;
    try {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      assert.equal(server.inspectorUrl, undefined);
      debug = await CdpClient.websocket(client.inspectorUrl!);
      const evaluated = await debug.send<{ result: { value: number } }>('Runtime.evaluate', {
        // The console's command-line API has require(), whatever the module kind.
        expression: "require('node:worker_threads').threadId",
        includeCommandLineAPI: true,
        returnByValue: true,
      });
      assert.equal(evaluated.result.value, client.threadId);
      const done = await establish(client, server);
      assert.ok(done.ok, JSON.stringify(done.steps));
    } finally {
      debug?.close();
      await machine.shutdown();
    }
  });

  it('opens the inspector of an LSA in its own OS process, in that process', { timeout: 60_000 }, async () => {
    const machine = await Machine.boot({ trace: false, lsaIsolation: 'process', inspect: [{ process: 'lsa', port: 0 }] });
    let debug: CdpClient | undefined;
    try {
      debug = await CdpClient.websocket(machine.lsa.inspectorUrl!);
      const evaluated = await debug.send<{ result: { value: number } }>('Runtime.evaluate', { expression: 'process.pid', returnByValue: true });
      assert.equal(evaluated.result.value, machine.lsa.osPid);
      assert.notEqual(evaluated.result.value, process.pid);
    } finally {
      debug?.close();
      await machine.shutdown();
    }
  });

  it('fails the boot, naming the address, when the port is taken', { timeout: 60_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await assert.rejects(Machine.boot({ trace: false, inspect: [{ process: 'lsa', port }] }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'BOOT_FAILED');
        assert.match(error.message, new RegExp(`cannot open the inspector on 127\\.0\\.0\\.1:${port}`));
        return true;
      });
    } finally {
      taken.close();
    }
  });

  it('refuses an inspect entry without a process or with a port out of range', async () => {
    await assert.rejects(Machine.boot({ inspect: [{ process: '' }] }), { code: 'BAD_OPTION' });
    await assert.rejects(Machine.boot({ inspect: [{ process: 'lsa', port: 70_000 }] }), { code: 'BAD_OPTION', message: /0 to 65535/ });
  });
});
