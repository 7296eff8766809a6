// A process that makes cheap LSA calls at a steady pace: QuerySecurityPackageInfo, which the LSA
// answers from its copy of SpGetInfo without running package code, so that its latency is the
// LSA's dispatch thread's responsiveness and nothing else. One call every `intervalMs` (the next
// goes at once when one took longer), so that the calls load the LSA alike however fast it
// answers; each call's latency is from its own start. Reports the latencies of the calls that
// started after `warmupMs`, for `durationMs`.
//
// args: package, durationMs, warmupMs, intervalMs.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SEC_E_OK, isSuccess, statusName } from '../../headers/index.js';
import type { AppArgs, AppContext, AppResult } from '../../process/index.js';

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const name = String(args.package);
  const intervalMs = Number(args.intervalMs ?? 2);
  const measureFrom = performance.now() + Number(args.warmupMs ?? 0);
  const deadline = measureFrom + Number(args.durationMs ?? 1000);
  const latencies: number[] = [];
  for (let start = performance.now(); start < deadline; start = performance.now()) {
    const r = await ctx.sspi.querySecurityPackageInfo(name);
    if (!isSuccess(r.status)) return { status: r.status, statusName: statusName(r.status) };
    const end = performance.now();
    if (start >= measureFrom) latencies.push(end - start);
    const wait = start + intervalMs - end;
    if (wait > 0) await sleep(wait);
  }
  return { status: SEC_E_OK, statusName: 'SEC_E_OK', data: { latencies } };
}
