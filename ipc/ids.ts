// Branded ids keep the handle layers apart at compile time: a ProcessId is not an LsaHandle, and
// neither is the package's own LSA_SEC_HANDLE. Only the tables that own a kind of id mint it.

declare const processIdBrand: unique symbol;
declare const lsaHandleBrand: unique symbol;

/** The emulated process id the machine gives a worker; the LSA learns it from the LPC channel only. */
export type ProcessId = number & { readonly [processIdBrand]: 'ProcessId' };

/** A handle value in the LSA's per-process handle table (what the SSPI library sends over LPC). */
export type LsaHandle = number & { readonly [lsaHandleBrand]: 'LsaHandle' };

/** Mints a ProcessId; only the machine's process table calls this. */
export function asProcessId(value: number): ProcessId {
  return value as ProcessId;
}

/** Mints an LsaHandle; only the LSA's handle table calls this, and decoders of LPC messages. */
export function asLsaHandle(value: number): LsaHandle {
  return value as LsaHandle;
}
