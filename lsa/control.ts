// What the machine may ask of the LSA over the control plane: attach a new process's LPC channel,
// reap a dead process, list the packages, read its statistics.

import type { MessagePort } from 'node:worker_threads';
import type { AttachRequest, AttachResult, Lsa, LsaStats, PackageReport, ReapReport } from './lsa.js';

export interface LsaControl {
  attachProcess(request: AttachRequest, lpcPort: MessagePort): Promise<AttachResult>;
  detachProcess(pid: number): Promise<ReapReport>;
  packages(): PackageReport;
  stats(): LsaStats;
}

export function lsaControl(lsa: Lsa): LsaControl {
  return {
    attachProcess: (request, lpcPort) => lsa.attachProcess(request, lpcPort),
    detachProcess: (pid) => lsa.detachProcess(pid),
    packages: () => lsa.packageReport(),
    stats: () => lsa.stats(),
  };
}
