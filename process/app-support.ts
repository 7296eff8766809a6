// What every application module does the same way: say how it ended (a status by name, what failed
// and the package's or the transport's own words for why), and acquire the credential its args
// name.

import { SECPKG_CRED, statusName, type SecWinntAuthIdentity, type Status } from '../headers/index.js';
import { TransportError } from '../ipc/index.js';
import type { CredHandle, Secur32, SspiResult } from '../sspi/index.js';
import type { AppArgs, AppResult } from './runtime.js';

/** An app's result: the status by name and, when given, what failed (with why, when known). */
export function appResult(status: Status, detail?: string, cause?: string): AppResult {
  const result: AppResult = { status, statusName: statusName(status) };
  if (detail !== undefined) result.detail = cause === undefined ? detail : `${detail}: ${cause}`;
  return result;
}

/** The result of an app that failed because its peer did first (it hung up, or sent its own failure): see AppResult.afterPeer. */
export function afterPeer(result: AppResult): AppResult {
  return { ...result, afterPeer: true };
}

/** Whether an error is the peer's going away (its end of the connection closed, its process gone), as opposed to a deadline or bad input. */
export function isPeerGone(error: unknown): boolean {
  return error instanceof TransportError && error.code === 'PEER_GONE';
}

/** "<api> failed", with the cause the SSPI library gave (the package's own message for a fault). */
export function failedCall(api: string, result: SspiResult): string {
  return result.cause === undefined ? `${api} failed` : `${api} failed: ${result.cause.message}`;
}

/** The explicit identity args.user, args.domain and args.password give, or null for the process's own logon. */
export function explicitIdentity(args: AppArgs): SecWinntAuthIdentity | null {
  return typeof args.user === 'string' ? { User: args.user, Domain: String(args.domain ?? ''), Password: String(args.password ?? '') } : null;
}

/**
 * AcquireCredentialsHandle for the app: outbound with the identity its args give, or inbound.
 * A failure is returned as the app's result.
 */
export async function acquireAppCredential(
  sspi: Secur32,
  pkg: string,
  use: 'outbound' | 'inbound',
  args: AppArgs,
): Promise<{ credential: CredHandle } | { failed: AppResult }> {
  const acquired =
    use === 'outbound'
      ? await sspi.acquireCredentialsHandle({ package: pkg, credentialUse: SECPKG_CRED.OUTBOUND, authData: explicitIdentity(args) })
      : await sspi.acquireCredentialsHandle({ package: pkg, credentialUse: SECPKG_CRED.INBOUND });
  if (acquired.credential === undefined) return { failed: appResult(acquired.status, failedCall(`AcquireCredentialsHandle(${pkg})`, acquired)) };
  return { credential: acquired.credential };
}
