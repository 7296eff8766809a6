// What the machine may ask of the LSA over the control plane: attach a new process's LPC channel,
// reap a dead process, list the packages, reload one, read its statistics (after a garbage
// collection when asked, for memory figures).

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SECURITY_LOGON_TYPE, type LsaApCallPackageResult } from '../headers/index.js';
import type { FaultPlan } from '../faults/index.js';
import { SspiEmuError } from '../ipc/index.js';
import type { AttachRequest, AttachResult, Lsa, LpcOffer, LsaStats, PackageReport, ReapReport } from './lsa.js';
import type { ReloadReport } from './package-reload.js';
import type { KdcStatus } from './kdc-host.js';
import type { NetlogonStatus } from './netlogon-host.js';

export interface LsaControl {
  /** An LSA in its own OS process: the process `pid` will connect to its socket with `secret` (before the process starts). */
  expectProcess(pid: number, name: string, secret: Uint8Array): void;
  attachProcess(request: AttachRequest, lpc: LpcOffer): Promise<AttachResult>;
  detachProcess(pid: number): Promise<ReapReport>;
  packages(): PackageReport;
  /** Loads a package's module again and puts the new version in place of the old (lsa/package-reload.ts). */
  reloadPackage(nameOrSpec: string): Promise<ReloadReport>;
  stats(options?: { gc?: boolean }): LsaStats;
  /** Applies a fault plan to the LSA (null clears it); returns the faults injected so far under the old one. */
  injectFaults(plan: FaultPlan | null): Record<string, number>;
  /** The LSA thread's event-loop utilization since it started (for the bench when the LSA is its own OS process). */
  eventLoopUtilization(): EventLoopUtilization;
  /** Heap bytes one logon session costs, measured by creating `count` of them (then deleted). */
  logonSessionBytes(count: number): number;
  /** A domain controller's KDC: where it listens, its keys, its counts; null on other machines. */
  kdc(): KdcStatus | null;
  /** An MIT keytab of the KDC's services' keys (ktpass on a DC); rejects on a machine without a KDC. */
  exportKeytab(): Promise<Uint8Array>;
  /** Netlogon: a DC's listener and counts, or a member's secure channel (nltest /sc_query); null in no domain. */
  netlogon(): NetlogonStatus | null;
  /** A member makes its secure channel now if it has none (nltest /sc_verify); a DC, or a machine in no domain, answers ok. */
  netlogonVerify(): Promise<{ ok: true } | { ok: false; status: string; reason: string }>;
  /**
   * LsaCallAuthenticationPackage as a trusted caller (SeTcbPrivilege, as a logon process or an
   * administrator's klist -li): the package's LsaApCallPackage; `reason` explains a failed call.
   */
  callAuthenticationPackage(packageName: string, submit: Uint8Array): Promise<LsaApCallPackageResult & { reason?: string }>;
}

/**
 * A full garbage collection, so that heap figures count only what is still reachable. Twice: V8
 * frees the backing stores of dead ArrayBuffers concurrently after a collection, and the next
 * collection finishes that sweep first, so that arrayBuffers is exact too.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

export function lsaControl(lsa: Lsa): LsaControl {
  return {
    expectProcess: (pid, name, secret) => lsa.expectProcess(pid, name, secret),
    attachProcess: (request, lpc) => lsa.attachProcess(request, lpc),
    detachProcess: (pid) => lsa.detachProcess(pid),
    packages: () => lsa.packageReport(),
    reloadPackage: (nameOrSpec) => lsa.reloadPackage(String(nameOrSpec)),
    stats: (options) => {
      if (options?.gc === true) collectGarbage();
      return lsa.stats();
    },
    injectFaults: (plan) => {
      const before = lsa.faultsInjected();
      lsa.injectFaults(plan);
      return before;
    },
    eventLoopUtilization: () => performance.eventLoopUtilization(),
    kdc: () => lsa.kdcStatus(),
    netlogon: () => lsa.netlogonStatus(),
    callAuthenticationPackage: (packageName, submit) => lsa.callAuthenticationPackage(packageName, submit),
    netlogonVerify: async () => (lsa.netlogon === null ? { ok: true } : lsa.netlogon.verify()),
    exportKeytab: async () => {
      if (lsa.kdc === null) throw new SspiEmuError('BAD_OPTION', 'this machine is not a domain controller: its LSA runs no KDC');
      return lsa.kdc.exportKeytab();
    },
    logonSessionBytes: (count) => {
      collectGarbage();
      const before = process.memoryUsage().heapUsed;
      const ids = [];
      for (let i = 0; i < count; i++) ids.push(lsa.sessions.create(SECURITY_LOGON_TYPE.Network, null)!.logonId);
      collectGarbage();
      const after = process.memoryUsage().heapUsed;
      for (const id of ids) lsa.sessions.delete(id);
      return (after - before) / count;
    },
  };
}
