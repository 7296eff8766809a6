// A domain of machines, each its own OS process (scenarios/domain.ts): a DC (sspi-emu dc), a member
// server (serve --tcp with the keytab the DC exported) and a workstation (connect, logging on as a
// domain user through the DC's KDC). What is checked: three OS processes whose timelines merge on one
// clock in causal order (the DC's TGS exchange inside the workstation's first
// InitializeSecurityContext, the member's AcceptSecurityContext after it); Negotiate picking
// Kerberos; with NTLM, the member passing the logon through to the DC (Netlogon); the member never
// given the user's password nor a key made from it (its arguments, environment, account store,
// keytab, the bytes it received, its output and trace); and every machine gone afterwards, whatever
// ended the run: a machine that does not start, one that dies while the workstation runs, the
// deadline.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { mergeMachineTraces, type MachineTraceEvent } from '../../machine/index.js';
import { stringToKey } from '../../packages/kerberos/crypto/index.js';
import { ntowfv1 } from '../../packages/ntlm/wire.js';
import { Domain, DomainError, MEMBER_LOCAL_ACCOUNT, runDomain, type DomainMachine } from '../../scenarios/index.js';
import { GSS_SAMPLE, RecordingProxy } from '../helpers/recording-proxy.js';
import { findSecret } from '../helpers/scan.js';
import { fixturePackage } from '../helpers/machine.js';

const REALM = 'EXAMPLE.TEST';
const PROC = existsSync('/proc/self/cmdline');

/** Whether an OS process is gone (its parent, the harness, has reaped it). */
function gone(pid: number | undefined): boolean {
  assert.ok(pid !== undefined);
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function assertAllGone(machines: readonly DomainMachine[]): void {
  for (const m of machines) assert.ok(gone(m.pid), `${m.describe()} is still running`);
}

/** The n-th event (0-based) of a machine's process with this call and phase. */
function nth(events: readonly MachineTraceEvent[], machine: string, process: string, call: string, phase: string, n = 0): MachineTraceEvent {
  const found = events.filter((e) => e.machine === machine && e.process === process && e.call === call && e.phase === phase)[n];
  assert.ok(found !== undefined, `${machine} ${process} ${call} ${phase} #${n}`);
  return found;
}

describe('a domain of machines, each its own OS process', { timeout: 240_000 }, () => {
  it('a DC, a member server and a workstation in three OS processes: Negotiate picks Kerberos, the timelines merge on one clock in causal order, the member never sees the password, and no process is left', async () => {
    const password = `alice-${randomBytes(12).toString('base64url')}`;
    const domain = await Domain.start({ realm: REALM, accounts: [`alice:${password}`, 'bob:Bob-pw-22'] });
    let proxy: RecordingProxy | undefined;
    try {
      const dc = domain.machine('dc')!;
      const member = domain.machine('member')!;
      const pids = [process.pid, dc.pid, member.pid];
      assert.equal(new Set(pids).size, 3, `each machine its own OS process: ${pids.join(', ')}`);

      if (PROC) {
        // The member's configuration is its arguments and environment: no form of the password in
        // either. The DC's arguments have it (its account), which shows that the scan finds it.
        for (const what of ['cmdline', 'environ'])
          assert.deepEqual(findSecret(await readFile(`/proc/${member.pid}/${what}`), password), [], `the member's ${what}`);
        assert.notDeepEqual(findSecret(await readFile(`/proc/${dc.pid}/cmdline`), password), []);
        // Its account store is one local account of its own.
        const memberArgs = (await readFile(`/proc/${member.pid}/cmdline`, 'utf8')).split('\0');
        assert.deepEqual(
          memberArgs.filter((_a, i) => memberArgs[i - 1] === '--account').map((a) => a.slice(0, a.indexOf(':'))),
          [MEMBER_LOCAL_ACCOUNT],
        );
      }
      // The keytab it was given holds the service's keys, not alice's password nor her keys.
      const aliceKeys = [18, 17].map((etype) => stringToKey(etype, password, `${REALM}alice`).keyvalue);
      const keytab = await readFile(domain.keytab);
      for (const secret of [password, ...aliceKeys]) assert.deepEqual(findSecret(keytab, secret), []);

      // Every byte the member receives from the workstation, through a recording proxy.
      proxy = await RecordingProxy.start(GSS_SAMPLE, { host: '127.0.0.1', port: domain.memberPort! });
      const outcome = await domain.runWorkstation({ port: proxy.port });
      assert.equal(outcome.exit.code, 0, outcome.stderr.join('\n'));
      assert.match(outcome.stdout.join('\n'), /^SEC_E_OK: authenticated to 127\.0\.0\.1:\d+ as alice@EXAMPLE\.TEST in 2 tokens/);
      const workstation = domain.machine('workstation')!;
      assert.equal(new Set([...pids, workstation.pid]).size, 4);
      const received = proxy.records.filter((r) => r.from === 'client').map((r) => r.body);
      assert.ok(received.length >= 2, 'the AP-REQ and the sealed message went through the proxy');
      for (const secret of [password, ...aliceKeys]) assert.deepEqual(findSecret(received, secret), []);

      await domain.stop();
      assert.deepEqual(
        domain.machines.map((m) => [m.name, m.exit]),
        [
          ['dc', { code: 0, signal: null }],
          ['member', { code: 0, signal: null }],
          ['workstation', { code: 0, signal: null }],
        ],
      );
      assertAllGone(domain.machines);
      // What the member printed and recorded holds no password either.
      assert.deepEqual(findSecret([member.stdout, member.stderr, await readFile(member.traceFile, 'utf8')], password), []);

      const { files, missing } = await domain.traces();
      assert.deepEqual(missing, []);
      assert.deepEqual(
        files.map((f) => [f.machine, f.osPid]),
        [
          ['dc', dc.pid],
          ['member', member.pid],
          ['workstation', workstation.pid],
        ],
      );
      const { events } = mergeMachineTraces(files);
      assert.deepEqual(new Set(events.map((e) => e.machine)), new Set(['dc', 'member', 'workstation']));
      for (let i = 1; i < events.length; i++) assert.ok(events[i - 1]!.t <= events[i]!.t, `event ${i} is in time order`);

      // One clock: what one machine did because of another comes after it, across OS processes.
      const firstIsc = nth(events, 'workstation', 'client', 'InitializeSecurityContext', 'call');
      const firstIscReturn = nth(events, 'workstation', 'client', 'InitializeSecurityContext', 'return');
      const asReq = nth(events, 'dc', 'lsa', 'AS-REQ', 'call');
      const tgsReq = nth(events, 'dc', 'lsa', 'TGS-REQ', 'call');
      const tgsReturn = nth(events, 'dc', 'lsa', 'TGS-REQ', 'return');
      assert.equal(tgsReturn.status, 'OK');
      assert.match(tgsReturn.detail ?? '', /^alice@EXAMPLE\.TEST -> host\/localhost@EXAMPLE\.TEST/);
      assert.ok(firstIsc.t < asReq.t && asReq.t < tgsReq.t && tgsReturn.t < firstIscReturn.t, 'the KDC answered inside the first InitializeSecurityContext');
      const accept = nth(events, 'member', 'server', 'AcceptSecurityContext', 'call');
      const acceptReturn = nth(events, 'member', 'server', 'AcceptSecurityContext', 'return');
      assert.equal(acceptReturn.status, 'SEC_E_OK');
      assert.ok(firstIscReturn.t < accept.t, "the member accepted the workstation's token after it was made");
      assert.ok(
        acceptReturn.t < nth(events, 'workstation', 'client', 'InitializeSecurityContext', 'call', 1).t,
        "the workstation's second call came after the member's answer",
      );
      // Negotiate dispatched to Kerberos on both sides, and the DC saw no AP exchange.
      assert.match(nth(events, 'member', 'lsa', 'SpAcceptLsaModeContext', 'call', 1).detail ?? '', /^Kerberos, for Negotiate/);
      assert.match(nth(events, 'workstation', 'lsa', 'SpInitLsaModeContext', 'call', 1).detail ?? '', /^Kerberos, for Negotiate/);
      assert.ok(!events.some((e) => e.machine === 'dc' && /Context$/.test(e.call) && e.process !== 'lsa'));
    } finally {
      await proxy?.stop();
      await domain.close();
    }
    assertAllGone(domain.machines);
  });

  it("with NTLM the member passes the logon through to the DC over its secure channel, and never holds the password or the user's NT hash", async () => {
    const password = `alice-${randomBytes(12).toString('base64url')}`;
    const ntHash = ntowfv1(password);
    const domain = await Domain.start({ realm: REALM, package: 'NTLM', accounts: [`alice:${password}`] });
    let proxy: RecordingProxy | undefined;
    try {
      const member = domain.machine('member')!;
      if (PROC)
        for (const what of ['cmdline', 'environ'])
          assert.deepEqual(findSecret(await readFile(`/proc/${member.pid}/${what}`), password), [], `the member's ${what}`);
      proxy = await RecordingProxy.start(GSS_SAMPLE, { host: '127.0.0.1', port: domain.memberPort! });
      const outcome = await domain.runWorkstation({ port: proxy.port });
      assert.equal(outcome.exit.code, 0, outcome.stderr.join('\n'));
      assert.match(outcome.stdout.join('\n'), /^SEC_E_OK: authenticated to 127\.0\.0\.1:\d+ as EXAMPLE\.TEST\\alice in 3 tokens/);
      const received = proxy.records.filter((r) => r.from === 'client').map((r) => r.body);
      for (const secret of [password, ntHash]) assert.deepEqual(findSecret(received, secret), []);
      await domain.stop();
      assert.match(domain.machine('dc')!.stdout.at(-1)!, /; 1 secure channels, 1 pass-through logons$/);
      assert.deepEqual(findSecret([member.stdout, member.stderr, await readFile(member.traceFile, 'utf8')], ntHash), []);

      const { files } = await domain.traces();
      const { events } = mergeMachineTraces(files);
      // The member's AcceptSecurityContext of the AUTHENTICATE waits on the DC: its pass-through call, the
      // secure channel made, the DC's NTLM checking the response, then the member's answer.
      const accept = nth(events, 'member', 'server', 'AcceptSecurityContext', 'call', 1);
      const passthrough = nth(events, 'member', 'lsa', 'CallPackagePassthrough', 'call');
      const passthroughReturn = nth(events, 'member', 'lsa', 'CallPackagePassthrough', 'return');
      const challenge = nth(events, 'dc', 'lsa', 'NetrServerReqChallenge', 'call');
      const checked = nth(events, 'dc', 'lsa', 'LsaApCallPackagePassthrough', 'return');
      const acceptReturn = nth(events, 'member', 'server', 'AcceptSecurityContext', 'return', 1);
      assert.equal(passthroughReturn.status, 'STATUS_SUCCESS');
      assert.equal(acceptReturn.status, 'SEC_E_OK');
      assert.ok(
        accept.t < passthrough.t && passthrough.t < challenge.t && challenge.t < checked.t && checked.t < passthroughReturn.t,
        'the DC answered inside the pass-through',
      );
      assert.ok(passthroughReturn.t < acceptReturn.t);
      assert.ok(!events.some((e) => e.machine === 'dc' && (e.call === 'AS-REQ' || e.call === 'TGS-REQ')), 'NTLM asked the KDC nothing');
    } finally {
      await proxy?.stop();
      await domain.close();
    }
    assertAllGone(domain.machines);
  });

  it('a DC that does not start is named with its stderr, and nothing is left running', async () => {
    const error = await Domain.start({ extraArgs: { dc: ['--work-pool', '99'] } }).then(
      () => assert.fail('the domain started'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DomainError);
    assert.equal(error.code, 'MACHINE_FAILED');
    assert.equal(error.machine, 'dc');
    assert.match(
      error.message,
      /^the domain controller \(sspi-emu dc, pid \d+\) exited with status 2 before its KDC listened; its stderr:\n {4}sspi-emu dc: --work-pool takes a whole number from 0 to 64, not "99"/,
    );
    assert.ok(gone(Number(/pid (\d+)/.exec(error.message)![1])));
  });

  it('a member server that does not start (a package module it cannot load) ends the run with a report naming it; the DC is stopped', async () => {
    const report = await runDomain({ load: ['/nonexistent/no-such-package.js'] });
    assert.equal(report.ok, false);
    assert.equal(report.error?.code, 'MACHINE_FAILED');
    assert.equal(report.failedFirst, 'member');
    assert.match(
      report.detail,
      /^the member server \(sspi-emu serve, pid \d+\) exited with status 1 before it listened; its stderr:\n {4}sspi-emu: package module \/nonexistent\/no-such-package\.js failed to load at resolve/,
    );
    assert.deepEqual(
      report.machines.map((m) => [m.name, m.exit?.code, m.traceEvents === null]),
      [
        ['dc', 0, false],
        ['member', 1, true],
      ],
    );
    assert.deepEqual(new Set(report.events.map((e) => e.machine)), new Set(['dc']));
    for (const m of report.machines) assert.ok(gone(m.pid));
  });

  it('a member that dies while the workstation runs ends the run (MACHINE_DIED, naming it); the workstation and the DC are stopped', async () => {
    // The workstation's InitializeSecurityContext never returns (Hanger), so the run is under way for as long as the test needs.
    const domain = await Domain.start({ package: 'Hanger', load: [fixturePackage('hanger')] });
    try {
      const running = domain.runWorkstation();
      assert.ok(domain.machine('workstation')?.running);
      domain.machine('member')!.child.kill('SIGKILL');
      const error = await running.then(
        () => assert.fail('the workstation finished'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof DomainError);
      assert.equal(error.code, 'MACHINE_DIED');
      assert.equal(error.machine, 'member');
      assert.match(error.message, /^the member server \(sspi-emu serve, pid \d+\) was ended by SIGKILL while the workstation ran/);
      assert.ok(!domain.machine('workstation')!.running, 'the workstation was stopped');
    } finally {
      await domain.close();
    }
    assertAllGone(domain.machines);
  });

  it('a workstation that does not finish within the deadline is stopped and named (DEADLINE)', async () => {
    // A "member" that takes the connection and never answers; the workstation would wait 10 minutes for it.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const domain = await Domain.start({ extraArgs: { workstation: ['--timeout', '600000'] } });
    try {
      const error = await domain.runWorkstation({ port, deadlineMs: 1500 }).then(
        () => assert.fail('the workstation finished'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof DomainError);
      assert.equal(error.code, 'DEADLINE');
      assert.equal(error.machine, 'workstation');
      assert.match(error.message, /^the workstation \(sspi-emu connect, pid \d+\) did not finish within 1500 ms/);
      assert.ok(!domain.machine('workstation')!.running);
    } finally {
      await domain.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    assertAllGone(domain.machines);
  });
});
