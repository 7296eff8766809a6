// `sspi-emu run --domain` as a user runs it: three machines, each its own OS process (the DC, the
// member server, the workstation), their timelines merged with the machine in each line, Kerberos
// chosen by Negotiate; --json and --http; a machine that fails to start named with its stderr;
// SIGINT stops every machine (exit 130); SIGKILL of run leaves none running either (each machine
// follows its IPC channel to run); `--domain D` with a value is still the client's domain.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { assertUsageError, sspiEmu } from '../helpers/cli.js';
import { fixturePackage } from '../helpers/machine.js';
import { CLI, Program } from '../helpers/sockets.js';

/** The pids run --domain tells on stderr: "sspi-emu run: dc (pid 4242): ...", by machine. */
function toldPids(stderr: string): Map<string, number> {
  return new Map([...stderr.matchAll(/^sspi-emu run: (dc|member|workstation) \(pid (\d+)\): /gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** Whether an OS process has ended: no such process, or a zombie not yet reaped by whoever inherited it. */
function ended(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** Resolves when every pid has ended (their parent is gone: nothing to wait on but the processes themselves), or rejects after `timeoutMs`. */
async function allEnded(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pids.every(ended)) {
    if (Date.now() > deadline) throw new Error(`still running after ${timeoutMs} ms: ${pids.filter((p) => !ended(p)).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `run --domain` with a package whose InitializeSecurityContext never returns: the run is under way until it is stopped. */
function hangingRun(): Program {
  return Program.start(process.execPath, [CLI, 'run', '--domain', '--package', 'Hanger', '--load', fixturePackage('hanger')]);
}

describe('sspi-emu run --domain', { timeout: 240_000 }, () => {
  it('runs a DC, a member server and a workstation as three OS processes and prints their timelines merged, with the machine in each line; Negotiate picks Kerberos; no process is left', async () => {
    const r = await sspiEmu(['run', '--domain'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const pids = toldPids(r.stderr);
    assert.deepEqual([...pids.keys()], ['dc', 'member', 'workstation']);
    assert.equal(new Set([process.pid, ...pids.values()]).size, 4);
    assert.match(r.stderr, /^sspi-emu run: dc \(pid \d+\): kdc listening on 127\.0\.0\.1:\d+, netlogon listening on 127\.0\.0\.1:\d+; the member's keys exported to /m);
    assert.match(r.stderr, /^sspi-emu run: workstation \(pid \d+\): sspi-emu connect --tcp 127\.0\.0\.1:\d+ --target host\/localhost .*--password \*\*\* /m);
    assert.ok(!r.stderr.includes('Passw0rd!'), 'the password is masked');

    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^\s+t \(ms\)  machine      process  tid  call$/);
    const timeline = lines.slice(1, lines.indexOf(''));
    const times = timeline.map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'in time order',
    );
    assert.deepEqual(new Set(timeline.map((l) => l.trim().split(/\s+/)[1])), new Set(['dc', 'member', 'workstation']));
    assert.ok(timeline.some((l) => /^\s*[\d.]+  dc\s+lsa\s+\d+\s+-> TGS-REQ/.test(l)));
    assert.ok(timeline.some((l) => /^\s*[\d.]+  member\s+server\s+\d+\s+<- AcceptSecurityContext  SEC_E_OK/.test(l)));
    assert.ok(timeline.some((l) => /^\s*[\d.]+  workstation\s+client\s+\d+\s+<- InitializeSecurityContext  SEC_E_OK/.test(l)));

    assert.match(r.stdout, /\nSEC_E_OK: workstation: authenticated to 127\.0\.0\.1:\d+ as alice@EXAMPLE\.TEST in 2 tokens; sealed message sent/);
    assert.match(r.stdout, /\npackage: Kerberos, chosen by Negotiate\n/);
    assert.match(r.stdout, /\n {2}dc {11}pid \d+ +sspi-emu dc, exit 0, \d+ trace events: stopped: 2 AS and 1 TGS requests, 2 tickets issued; 0 secure channels, 0 pass-through logons\n/);
    assert.match(r.stdout, /\n {2}member {7}pid \d+ +sspi-emu serve, exit 0, \d+ trace events: stopped: served 1 connection\(s\); 1 authenticated/);
    // run reaped each machine before it exited.
    for (const pid of pids.values()) assert.ok(ended(pid), `pid ${pid} is still running`);
  });

  it('--http --json: serve --http and fetch, one JSON object with the machines and the merged events', async () => {
    const r = await sspiEmu(['run', '--domain', '--http', '--json', '--quiet'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stderr, '', '--quiet tells nothing on stderr');
    const report = JSON.parse(r.stdout) as {
      status: string;
      mechanism: string;
      app: string;
      machines: Array<{ name: string; command: string; pid: number; exit: { code: number }; args: string[] }>;
      events: Array<{ machine: string; t: number; call: string; process: string }>;
    };
    assert.equal(report.status, 'SEC_E_OK');
    assert.equal(report.mechanism, 'Kerberos');
    assert.equal(report.app, 'http');
    assert.deepEqual(
      report.machines.map((m) => [m.name, m.command, m.exit.code]),
      [
        ['dc', 'sspi-emu dc', 0],
        ['member', 'sspi-emu serve', 0],
        ['workstation', 'sspi-emu fetch', 0],
      ],
    );
    assert.ok(report.machines[1]!.args.includes('--http'));
    assert.ok(!report.machines.some((m) => m.args.includes('Passw0rd!') || m.args.some((a) => a.endsWith(':Passw0rd!'))), 'passwords masked');
    assert.deepEqual(new Set(report.events.map((e) => e.machine)), new Set(['dc', 'member', 'workstation']));
    assert.ok(report.events.some((e) => e.machine === 'dc' && e.call === 'TGS-REQ'));
    for (let i = 1; i < report.events.length; i++) assert.ok(report.events[i - 1]!.t <= report.events[i]!.t);
  });

  it('a machine that fails to start is named with its stderr (exit 1), and the DC started before it is stopped', async () => {
    const r = await sspiEmu(['run', '--domain', '--load', '/nonexistent/no-such-package.js'], { timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    // What was recorded is shown all the same: the DC's timeline, then the failure.
    assert.match(r.stdout, /^\s+t \(ms\)  machine  process  tid  call\n\s+[\d.]+  dc /);
    assert.match(
      r.stdout,
      /\nMACHINE_FAILED: member: the member server \(sspi-emu serve, pid \d+\) exited with status 1 before it listened; its stderr:\n {4}sspi-emu: package module \/nonexistent\/no-such-package\.js failed to load at resolve: /,
    );
    const pids = toldPids(r.stderr);
    assert.deepEqual([...pids.keys()], ['dc']);
    assert.ok(ended(pids.get('dc')!));
    assert.match(r.stdout, /\n {2}member {2}pid \d+ +sspi-emu serve, exit 1, no trace\n/);
  });

  it('SIGINT stops every machine, then run exits 130', async () => {
    const run = hangingRun();
    try {
      await run.waitForLine(/^sspi-emu run: workstation \(pid \d+\)/, 120_000);
      const pids = toldPids(run.stderrLines.join('\n'));
      assert.equal(pids.size, 3);
      run.child.kill('SIGINT');
      const exit = await run.exited;
      assert.equal(exit.code, 130, run.stderrLines.join('\n'));
      assert.match(run.stderrLines.at(-1)!, /^sspi-emu run: interrupted; every machine of the domain has stopped$/);
      for (const [name, pid] of pids) assert.ok(ended(pid), `${name} (pid ${pid}) is still running`);
    } finally {
      await run.stop('SIGKILL');
    }
  });

  it('SIGKILL of run leaves no machine running: each ends when its IPC channel to run closes', async () => {
    const run = hangingRun();
    let pids = new Map<string, number>();
    try {
      await run.waitForLine(/^sspi-emu run: workstation \(pid \d+\)/, 120_000);
      pids = toldPids(run.stderrLines.join('\n'));
      assert.equal(pids.size, 3);
      assert.ok(
        [...pids.values()].every((pid) => !ended(pid)),
        'the machines run',
      );
      run.child.kill('SIGKILL');
      await run.exited;
      // Their parent is gone, so nothing signals their end to this process: wait for the processes themselves.
      await allEnded([...pids.values()], 60_000);
    } finally {
      await run.stop('SIGKILL');
      for (const pid of pids.values()) if (!ended(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('refuses a --package that cannot authenticate a domain user, naming the ones that can', async () => {
    const named = /^sspi-emu run: --package with --domain is Negotiate, Kerberos, NTLM or a package of a --load module, not "(Example|null)"$/;
    assertUsageError(await sspiEmu(['run', '--domain', '--package', 'Example'], { timeoutMs: 60_000 }), 'run', named);
    assertUsageError(await sspiEmu(['run', '--domain', '--package', 'null'], { timeoutMs: 60_000 }), 'run', named);
    // A built-in name is the built-in package, --load or not.
    assertUsageError(await sspiEmu(['run', '--domain', '--package', 'Example', '--load', fixturePackage('hanger')], { timeoutMs: 60_000 }), 'run', named);
  });

  it("refuses what a domain run makes itself, and keeps --domain D as the one-machine run's client domain", async () => {
    assertUsageError(await sspiEmu(['run', '--domain', '--kdc', '127.0.0.1:88']), 'run', /^sspi-emu run: --kdc goes without --domain/);
    assertUsageError(await sspiEmu(['run', '--domain', '--messages', '2']), 'run', /^sspi-emu run: --messages goes without --domain/);
    assertUsageError(await sspiEmu(['run', '--domain', '--dc', '127.0.0.1:1234']), 'run', /^sspi-emu run: --dc goes without --domain/);
    assertUsageError(await sspiEmu(['run', '--domain', '--http', '--message', 'hi']), 'run', /--message goes with the TCP member/);
    assertUsageError(await sspiEmu(['run', '--domain', '--deadline', '0']), 'run', /--deadline takes a whole number from 1/);
    assertUsageError(await sspiEmu(['run', '--domain', '--user', 'carol']), 'run', /--user carol needs --password, or an --account of that name/);
    // A one-machine run: the LPC line is its own.
    const one = await sspiEmu(['run', '--domain', 'SSPI-EMU', '--quiet']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^SEC_E_OK: /);
    assert.match(one.stdout, /\nLPC messages: handshake \d+, message phase 0\n$/);
  });
});
