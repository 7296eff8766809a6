// One handshake, hop by hop: where an LPC call's time goes, from the rows with one handshake in
// flight (so that the figures are latencies, not queues). The processes time their own SSPI calls
// (bench/apps); the LSA adds up its stages of the same calls (lsa.stats().calls, and its frames'
// encoding and decoding). What the LSA does not account for is transit: the processes' SSPI
// library, posting frames and waking the threads they go to.

import type { HopTotals } from './handshakes.js';

export interface HopRow {
  package: string;
  /** LPC calls per handshake, both processes together (their own counts, of the handshakes the client measured). */
  callsPerHandshake: number;
  /** Microseconds per LPC call, as the calling process sees it (its SSPI call, start to answer). */
  roundTripUs: number;
  /** Of which in the LSA: decoding the body, waiting for the scheduler, in the package, all the LSA's own handling. */
  lsaDecodeUs: number;
  lsaQueuedUs: number;
  lsaPackageUs: number;
  lsaHandledUs: number;
  /** The LSA's frame encoding and decoding, per call. */
  lsaFramesUs: number;
  /** The rest: the process's SSPI library and user-mode host, posting, waking threads. */
  transitUs: number;
  /** Microseconds per trip from the client to the server's answer (the server's SSPI call included). */
  serverTripUs: number;
}

export function hopRow(packageName: string, hops: HopTotals): HopRow | undefined {
  const calls = hops.client.sspiCalls + hops.server.sspiCalls;
  const lsaCalls = hops.lsa.calls;
  if (calls === 0 || lsaCalls === 0 || hops.handshakes === 0) return undefined;
  const us = (ms: number, n: number): number => Math.round((ms / n) * 10_000) / 10;
  const roundTripUs = us(hops.client.sspiMs + hops.server.sspiMs, calls);
  const lsaHandledUs = us(hops.lsa.handledMs, lsaCalls);
  const lsaFramesUs = us(hops.lsa.codecMs, lsaCalls);
  return {
    package: packageName,
    callsPerHandshake: Math.round((calls / hops.handshakes) * 10) / 10,
    roundTripUs,
    lsaDecodeUs: us(hops.lsa.decodeMs, lsaCalls),
    lsaQueuedUs: us(hops.lsa.queuedMs, lsaCalls),
    lsaPackageUs: us(hops.lsa.packageMs, lsaCalls),
    lsaHandledUs,
    lsaFramesUs,
    transitUs: Math.round((roundTripUs - lsaHandledUs - lsaFramesUs) * 10) / 10,
    serverTripUs: us(hops.client.serverMs, Math.max(1, hops.client.serverTrips)),
  };
}
