// The KDC's two kinds of failure. A request it will not grant is a protocol outcome, a KRB-ERROR
// on the wire (KdcRefusal, thrown by the exchanges and turned into the reply by kdc.ts, never out
// of this folder). A KDC that cannot be set up as asked (a bad principal name, a policy out of
// range, a port already taken) is a KdcError with a code, for whoever configured it.

import { EmuError, registerErrorClass } from '../../kit/index.js';
import type { PrincipalName } from '../messages/index.js';

export type KdcErrorCode =
  /** A realm, principal, salt, key, kvno or policy value that cannot be used. */
  | 'BAD_CONFIG'
  /** The KDC could not listen where it was asked (a port taken, an address not of this host). */
  | 'LISTEN_FAILED';

export const KDC_ERROR_CODES: readonly KdcErrorCode[] = ['BAD_CONFIG', 'LISTEN_FAILED'];

export class KdcError extends EmuError<KdcErrorCode> {
  override readonly name = 'KdcError';
}

// Registered so that a KDC that fails to start in the LSA is rebuilt as itself on the machine.
registerErrorClass('KdcError', KdcError, KDC_ERROR_CODES);

/** A request the KDC refuses: the KRB-ERROR's code, its e-text, and its e-data when the code has one. */
export class KdcRefusal extends Error {
  override readonly name = 'KdcRefusal';
  /** KRB_ERROR_CODE. */
  readonly errorCode: number;
  readonly eData: Uint8Array | undefined;
  /** The client, when the refusal is about a request whose client is known (KRB-ERROR's cname). */
  readonly cname: PrincipalName | undefined;

  constructor(errorCode: number, eText: string, extra: { eData?: Uint8Array; cname?: PrincipalName } = {}) {
    super(eText);
    this.errorCode = errorCode;
    this.eData = extra.eData;
    this.cname = extra.cname;
  }
}
