// The Targets block: how a target reads, and the context the full-path target carries (the
// ideal baseline's own ratio to in-process in the same run, which bounds what the full path can
// reach). Figures here are made up: the rates are the benchmark's to report.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { targetsOf, type HandshakeRow } from '../../bench/index.js';
import { target, targetLines } from '../../bench/targets.js';

function row(pkg: string, figures: Partial<HandshakeRow>): HandshakeRow {
  return {
    package: pkg,
    concurrency: 64,
    clients: 1,
    hsPerSec: 14_000,
    hsPerSecMin: 13_000,
    hsPerSecMax: 15_000,
    p50Ms: 4,
    p99Ms: 8,
    idealHsPerSec: 21_000,
    inProcessHsPerSec: 28_000,
    ratioToIdeal: 0.66,
    ratioToInProcess: 0.5,
    cpuUsPerHandshake: 101.4,
    idealCpuUsPerHandshake: 74.9,
    cpuRatioToIdeal: 0.74,
    bottleneck: 'lsa (78% busy)',
    elu: {},
    cpuCores: 1.4,
    failures: 0,
    ...figures,
  };
}

const empty = {
  fairness: [],
  sockets: [],
  pool: null,
  cryptoFloor: [],
  messages: [],
  memory: { lsaBytesPerContext: {}, measurements: {}, lsaBytesPerLogonSession: 0 },
};

describe('the Targets block', () => {
  it('says met or NOT MET by the goal, rounds to three places, and never meets a goal with a figure it could not measure', () => {
    assert.deepEqual(targetLines([target('a', 0.70049, '>=', 0.7), target('b', 3.0001, '<=', 3), target('c', NaN, '>=', 0.5)]), [
      'met      a: 0.7 (goal >= 0.7)',
      'NOT MET  b: 3 (goal <= 3)',
      'NOT MET  c: NaN (goal >= 0.5)',
    ]);
  });

  it('prints under the NTLM full-path target what the ideal baseline reached of in-process in the same run, and the CPU behind both', () => {
    const [full] = targetsOf({ ...empty, handshakes: [row('NTLM', {})] });
    assert.equal(full!.target, 'NTLM full path, 64 in flight / NTLM in-process');
    assert.equal(full!.met, false);
    assert.deepEqual(targetLines([full!]), [
      'NOT MET  NTLM full path, 64 in flight / NTLM in-process: 0.5 (goal >= 0.7)',
      '         (the ideal raw-message baseline, the same hops with no package work: 0.75 of NTLM in-process; the full path 101 us of CPU a handshake on 1.40 cores, the ideal 75)',
    ]);
  });

  it('leaves the context out when a baseline was not measured', () => {
    const [full] = targetsOf({ ...empty, handshakes: [row('NTLM', { idealHsPerSec: 0 })] });
    assert.equal(full!.context, undefined);
    assert.equal(targetLines([full!]).length, 1);
  });
});
