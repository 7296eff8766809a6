// The three views of a trace, on a small hand-built one: the first leg of a handshake, with the
// LSA reaching into the client, the LSA serving the server meanwhile, and the message phase.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceEvent } from '../../ipc/trace.js';
import { formatMermaid, formatTimeline, toChromeTrace } from '../../machine/render.js';

const token = (length: number): string => Buffer.alloc(length, 0x4e).toString('base64');

const LSA = { process: 'lsa', pid: 1, threadId: 1 };
const CLIENT = { process: 'client', pid: 2, threadId: 2 };
const SERVER = { process: 'server', pid: 3, threadId: 3 };

/** Times are in ms and exact in binary, so that microseconds come out whole. */
const EVENTS: TraceEvent[] = [
  { t: 1, ...CLIENT, call: 'InitializeSecurityContext', phase: 'call' },
  { t: 1.5, ...LSA, call: 'SpInitLsaModeContext', phase: 'call', peer: 'client' },
  { t: 1.75, ...LSA, call: 'AllocateClientBuffer', phase: 'call', peer: 'client' },
  { t: 2, ...LSA, call: 'SpAcceptLsaModeContext', phase: 'call', peer: 'server' },
  { t: 2.25, ...LSA, call: 'AllocateClientBuffer', phase: 'return', peer: 'client', status: 'STATUS_SUCCESS' },
  { t: 2.5, ...LSA, call: 'SpInitLsaModeContext', phase: 'return', peer: 'client', status: 'SEC_I_CONTINUE_NEEDED' },
  { t: 3, ...CLIENT, call: 'InitializeSecurityContext', phase: 'return', status: 'SEC_I_CONTINUE_NEEDED', tokenOut: token(40) },
  { t: 3.5, ...SERVER, call: 'AcceptSecurityContext', phase: 'call', tokenIn: token(40) },
  { t: 4, ...LSA, call: 'MappedContext', phase: 'event', peer: 'client', detail: '96 B of ContextData' },
  { t: 4.25, ...CLIENT, call: 'SpInitUserModeContext', phase: 'call' },
  { t: 4.5, ...CLIENT, call: 'SpInitUserModeContext', phase: 'return', status: 'SEC_E_OK' },
  { t: 5, ...CLIENT, call: 'EncryptMessage', phase: 'call' },
  { t: 5.25, ...CLIENT, call: 'EncryptMessage', phase: 'return', status: 'SEC_E_OK' },
];

describe('formatTimeline', () => {
  const lines = formatTimeline(EVENTS).split('\n');
  /** The call column of each event line: what follows time, process and thread. */
  const calls = lines.slice(1).map((line) => line.slice('    1.000  client     2  '.length));

  it('starts with a header and gives each event one line of time, process and thread', () => {
    assert.equal(lines.length, EVENTS.length + 1);
    assert.equal(lines[0], '   t (ms)  process  tid  call');
    assert.equal(lines[1], '    1.000  client     2  -> InitializeSecurityContext');
    assert.equal(lines[5]!.slice(0, 25), '    2.250  lsa        1  ');
  });

  it('indents nested calls, keeps the LSA depth per process it works for, and names the peer and status', () => {
    assert.deepEqual(calls.slice(0, 6), [
      '-> InitializeSecurityContext',
      '-> SpInitLsaModeContext  (for client)',
      '  -> AllocateClientBuffer  (for client)',
      '-> SpAcceptLsaModeContext  (for server)',
      '  <- AllocateClientBuffer  (to client)  STATUS_SUCCESS',
      '<- SpInitLsaModeContext  (to client)  SEC_I_CONTINUE_NEEDED',
    ]);
  });

  it('gives token sizes in bytes, decoded from base64, and events with their detail', () => {
    assert.equal(calls[6], '<- InitializeSecurityContext  SEC_I_CONTINUE_NEEDED  token out 40 B');
    assert.equal(calls[7], '-> AcceptSecurityContext  token in 40 B');
    assert.equal(calls[8], '** MappedContext  (for client)  [96 B of ContextData]');
  });

  it('widens the process column for a long process name', () => {
    const [header, line] = formatTimeline([{ t: 0, process: 'client#12', pid: 9, threadId: 4, call: 'X', phase: 'event' }]).split('\n');
    assert.equal(header, '   t (ms)  process    tid  call');
    assert.equal(line, '    0.000  client#12    4  ** X');
  });
});

describe('formatMermaid', () => {
  it('draws the client, the LSA and the server, the calls that cross, tokens forwarded and messages that stay in-process', () => {
    assert.equal(
      formatMermaid(EVENTS),
      [
        'sequenceDiagram',
        '    participant client as client',
        '    participant lsa as lsa',
        '    participant server as server',
        '    client->>lsa: InitializeSecurityContext',
        '    lsa->>lsa: SpInitLsaModeContext',
        '    lsa->>client: AllocateClientBuffer',
        '    lsa->>lsa: SpAcceptLsaModeContext',
        '    client-->>lsa: STATUS_SUCCESS',
        '    lsa-->>client: SEC_I_CONTINUE_NEEDED, token 40 B',
        '    client->>server: token (40 B)',
        '    server->>lsa: AcceptSecurityContext (token 40 B)',
        '    Note over lsa,client: MappedContext intercepted, ContextData to client',
        '    client->>client: SpInitUserModeContext',
        '    client->>client: EncryptMessage SEC_E_OK (no LPC)',
        '    client->>server: sealed message',
        '',
      ].join('\n'),
    );
  });

  it('turns a process name into a Mermaid id', () => {
    const diagram = formatMermaid([{ t: 0, process: 'client#2', pid: 4, threadId: 4, call: 'AcquireCredentialsHandle', phase: 'call' }]);
    assert.equal(diagram, 'sequenceDiagram\n    participant client_2 as client#2\n    client_2->>lsa: AcquireCredentialsHandle\n');
  });
});

describe('toChromeTrace', () => {
  const { traceEvents, displayTimeUnit } = toChromeTrace(EVENTS);
  const complete = (name: string) => traceEvents.filter((e) => e.ph === 'X' && e.name === name);

  it('names one track per process, once, with its process and thread names', () => {
    const metadata = traceEvents.filter((e) => e.ph === 'M');
    assert.deepEqual(
      metadata.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args?.name]),
      [
        [2, 'client (pid 2)'],
        [1, 'lsa (pid 1)'],
        [3, 'server (pid 3)'],
      ],
    );
    assert.deepEqual(
      metadata.filter((e) => e.name === 'thread_name').map((e) => [e.pid, e.tid, e.args?.name]),
      [
        [2, 2, 'client thread 2'],
        [1, 1, 'lsa thread 1'],
        [3, 3, 'server thread 3'],
      ],
    );
    assert.equal(displayTimeUnit, 'ms');
  });

  it('makes each call and its return one complete event, in microseconds, with the arguments of both', () => {
    assert.deepEqual(complete('InitializeSecurityContext'), [
      {
        name: 'InitializeSecurityContext',
        cat: 'sspi',
        ph: 'X',
        ts: 1000,
        dur: 2000,
        pid: 2,
        tid: 2,
        args: { status: 'SEC_I_CONTINUE_NEEDED', tokenOut: token(40) },
      },
    ]);
    assert.deepEqual(complete('SpInitLsaModeContext'), [
      { name: 'SpInitLsaModeContext', cat: 'package', ph: 'X', ts: 1500, dur: 1000, pid: 1, tid: 1, args: { peer: 'client', status: 'SEC_I_CONTINUE_NEEDED' } },
    ]);
    assert.deepEqual(
      complete('AllocateClientBuffer').map((e) => [e.cat, e.ts, e.dur]),
      [['event', 1750, 500]],
    );
    assert.deepEqual(
      complete('SpInitUserModeContext').map((e) => [e.cat, e.ts, e.dur]),
      [['user-mode', 4250, 250]],
    );
  });

  it('makes a call with no return, and an event, an instant event on its track', () => {
    const instants = traceEvents.filter((e) => e.ph === 'i');
    assert.deepEqual(
      instants.map((e) => [e.name, e.ts, e.pid, e.s]),
      [
        ['MappedContext', 4000, 1, 't'],
        ['SpAcceptLsaModeContext', 2000, 1, 't'],
        ['AcceptSecurityContext', 3500, 3, 't'],
      ],
    );
    assert.deepEqual(instants.find((e) => e.name === 'AcceptSecurityContext')?.args, { tokenIn: token(40) });
  });

  it('pairs a re-entrant call with its own return, innermost first', () => {
    const nested = toChromeTrace([
      { t: 1, ...LSA, call: 'ClientCallback', phase: 'call' },
      { t: 2, ...LSA, call: 'ClientCallback', phase: 'call' },
      { t: 3, ...LSA, call: 'ClientCallback', phase: 'return', status: 'inner' },
      { t: 5, ...LSA, call: 'ClientCallback', phase: 'return', status: 'outer' },
    ]).traceEvents.filter((e) => e.ph === 'X');
    assert.deepEqual(
      nested.map((e) => [e.args?.status, e.ts, e.dur]),
      [
        ['inner', 2000, 1000],
        ['outer', 1000, 4000],
      ],
    );
  });
});

/** Three machines' events merged (run --domain): each process's name repeats from machine to machine. */
const MERGED: TraceEvent[] = [
  { t: 1, ...CLIENT, machine: 'workstation', call: 'InitializeSecurityContext', phase: 'call' },
  { t: 1.25, ...LSA, machine: 'workstation', call: 'SpInitLsaModeContext', phase: 'call', peer: 'client' },
  { t: 1.5, ...LSA, machine: 'dc', call: 'TGS-REQ', phase: 'call', peer: '127.0.0.1:40000' },
  { t: 1.75, ...LSA, machine: 'dc', call: 'TGS-REQ', phase: 'return', peer: '127.0.0.1:40000', status: 'OK' },
  { t: 2, ...LSA, machine: 'workstation', call: 'SpInitLsaModeContext', phase: 'return', peer: 'client', status: 'SEC_I_CONTINUE_NEEDED' },
  { t: 2.25, ...CLIENT, machine: 'workstation', call: 'InitializeSecurityContext', phase: 'return', status: 'SEC_I_CONTINUE_NEEDED', tokenOut: token(40) },
  { t: 2.5, ...SERVER, machine: 'member', call: 'AcceptSecurityContext', phase: 'call', tokenIn: token(40) },
  { t: 2.75, ...LSA, machine: 'member', call: 'SpAcceptLsaModeContext', phase: 'call', peer: 'server' },
  { t: 3, ...LSA, machine: 'member', call: 'SpAcceptLsaModeContext', phase: 'return', peer: 'server', status: 'SEC_E_OK' },
  { t: 3.25, ...SERVER, machine: 'member', call: 'AcceptSecurityContext', phase: 'return', status: 'SEC_E_OK' },
];

describe('the views of a timeline merged from several machines', () => {
  it('formatTimeline adds a machine column and keeps call depths per machine', () => {
    const lines = formatTimeline(MERGED).split('\n');
    assert.equal(lines[0], '   t (ms)  machine      process  tid  call');
    assert.equal(lines[1], '    1.000  workstation  client     2  -> InitializeSecurityContext');
    assert.equal(lines[3], '    1.500  dc           lsa        1  -> TGS-REQ  (for 127.0.0.1:40000)');
    assert.equal(lines[4], '    1.750  dc           lsa        1  <- TGS-REQ  (to 127.0.0.1:40000)  OK');
    // The member's LSA at depth 0, though the workstation's LSA had a call open a moment before.
    assert.equal(lines[8], '    2.750  member       lsa        1  -> SpAcceptLsaModeContext  (for server)');
  });

  it("formatMermaid draws a lifeline per machine's process, each app process calling its own machine's LSA, a KDC's requests as notes", () => {
    const diagram = formatMermaid(MERGED).split('\n');
    assert.deepEqual(diagram.slice(1, 6), [
      '    participant workstation_client as workstation client',
      '    participant workstation_lsa as workstation lsa',
      '    participant dc_lsa as dc lsa',
      '    participant member_lsa as member lsa',
      '    participant member_server as member server',
    ]);
    assert.ok(diagram.includes('    workstation_client->>workstation_lsa: InitializeSecurityContext'));
    assert.ok(diagram.includes('    Note over dc_lsa: TGS-REQ from 127.0.0.1:40000: OK'));
    assert.ok(diagram.includes('    workstation_client->>member_server: token (40 B)'));
    assert.ok(diagram.includes('    member_server->>member_lsa: AcceptSecurityContext (token 40 B)'));
  });

  it("toChromeTrace gives each machine's process a track of its own, though their pids repeat", () => {
    const names = toChromeTrace(MERGED)
      .traceEvents.filter((e) => e.name === 'process_name')
      .map((e) => [e.pid, e.args?.name]);
    assert.deepEqual(names, [
      [1, 'workstation client (pid 2)'],
      [2, 'workstation lsa (pid 1)'],
      [3, 'dc lsa (pid 1)'],
      [4, 'member server (pid 3)'],
      [5, 'member lsa (pid 1)'],
    ]);
  });
});
