// What a run's trace says about the package under test, for `sspi-emu run`'s summary: the
// exceptions its entry points threw (with their stacks), and what the default applications
// needed from it and did not get. The default apps query SECPKG_ATTR_SIZES (the sizes of the
// buffers they give EncryptMessage and MakeSignature) and SECPKG_ATTR_NAMES (the user name they
// print), and sign and seal in their own process, which needs the context mapped there
// (MappedContext = TRUE with ContextData on the final leg). A package that skips one of them
// fails in ways that do not name it (SEC_E_INVALID_HANDLE, SEC_E_BUFFER_TOO_SMALL, "as ?").

import type { TraceEvent } from '../ipc/index.js';

/** An exception a package entry point threw, as its trace event carries it. */
export interface PackageException {
  /** The process whose package half threw: "lsa", or an app process ("client", "server"). */
  process: string;
  /** The entry point: SpSealMessage, SpInitLsaModeContext, ... */
  entry: string;
  /** The fault's description: the package, the entry point and the package's own message. */
  message: string;
  /** The package's stack, when it threw an Error. */
  stack?: string;
}

/** What the default applications need from a package, in the order they need it. */
export const DEFAULT_APP_NEEDS = ['MappedContext', 'SECPKG_ATTR_SIZES', 'SECPKG_ATTR_NAMES'] as const;
export type DefaultAppNeed = (typeof DEFAULT_APP_NEEDS)[number];

export interface RunDiagnosis {
  /** Every exception of a package entry point, in time order. */
  exceptions: PackageException[];
  /**
   * The package's other faults, in time order: an entry point that did not return within the
   * host's deadline (PACKAGE_TIMEOUT), or returned what the interface does not allow
   * (PACKAGE_BAD_RESULT). A run can succeed with them (a delete that timed out).
   */
  faults: PackageException[];
  /** What the default apps needed and the package did not give, with the processes that missed it. */
  lacking: Array<{ need: DefaultAppNeed; processes: string[] }>;
}

const HANDSHAKE_APIS = new Set(['InitializeSecurityContext', 'AcceptSecurityContext']);

/** Reads a run's trace (every process's events, in time order). */
export function diagnoseRun(events: readonly TraceEvent[]): RunDiagnosis {
  const exceptions: PackageException[] = [];
  const faults: PackageException[] = [];
  // Processes whose QueryContextAttributes under way met a fault of the package's (its answer is no lack of an attribute).
  const queryFaulted = new Set<string>();
  const established = new Set<string>();
  const mapped = new Set<string>();
  const missed = new Map<DefaultAppNeed, Set<string>>();
  // The attribute of each process's QueryContextAttributes under way: an app process's calls are
  // its own (one at a time in the default apps), and its return follows its call.
  const querying = new Map<string, string>();
  const miss = (need: DefaultAppNeed, process: string): void => {
    const set = missed.get(need) ?? new Set<string>();
    set.add(process);
    missed.set(need, set);
  };

  for (const e of events) {
    if (e.phase === 'return' && e.call.startsWith('Sp') && e.stack !== undefined)
      exceptions.push({ process: e.process, entry: e.call, message: e.detail ?? e.call, stack: e.stack });
    else if (e.phase === 'return' && e.call.startsWith('Sp') && e.status === 'SEC_E_INTERNAL_ERROR' && e.detail?.startsWith('PACKAGE_THREW') === true)
      exceptions.push({ process: e.process, entry: e.call, message: e.detail });
    else if (e.phase === 'return' && e.call.startsWith('Sp') && e.status === 'SEC_E_INTERNAL_ERROR' && /^PACKAGE_(TIMEOUT|BAD_RESULT)\b/.test(e.detail ?? ''))
      faults.push({ process: e.process, entry: e.call, message: e.detail! });
    if (e.phase === 'return' && e.call === 'SpQueryContextAttributes' && e.status === 'SEC_E_INTERNAL_ERROR' && querying.has(e.process)) queryFaulted.add(e.process);
    if (e.process === 'lsa') {
      if (e.call === 'MappedContext' && e.peer !== undefined) mapped.add(e.peer);
      continue;
    }
    if (HANDSHAKE_APIS.has(e.call) && e.phase === 'return' && e.status === 'SEC_E_OK') established.add(e.process);
    if (e.call === 'QueryContextAttributes') {
      if (e.phase === 'call' && e.detail !== undefined) querying.set(e.process, e.detail);
      else if (e.phase === 'return') {
        const attribute = querying.get(e.process);
        querying.delete(e.process);
        const faulted = queryFaulted.delete(e.process);
        if ((attribute === 'SECPKG_ATTR_SIZES' || attribute === 'SECPKG_ATTR_NAMES') && e.status !== 'SEC_E_OK' && !faulted) miss(attribute, e.process);
      }
    }
  }
  for (const process of established) if (!mapped.has(process)) miss('MappedContext', process);
  const lacking = DEFAULT_APP_NEEDS.filter((need) => missed.has(need)).map((need) => ({ need, processes: [...missed.get(need)!].sort() }));
  return { exceptions, faults, lacking };
}

/** One line: what the default apps need from a package, and what this one lacked (empty when it lacked nothing). */
export function formatNeeds(lacking: RunDiagnosis['lacking']): string {
  if (lacking.length === 0) return '';
  const missing = lacking.map(({ need, processes }) => `${need} (${processes.join(', ')})`).join(', ');
  return (
    `the default apps need from a package: MappedContext = TRUE with ContextData on the final leg (they sign and seal in ` +
    `their own process), SECPKG_ATTR_SIZES (buffer sizes for EncryptMessage and MakeSignature) and SECPKG_ATTR_NAMES ` +
    `(the user's name) in its user-mode QueryContextAttributes; this package lacked ${missing}`
  );
}
