// The NTSTATUS values of a Netlogon secure channel that headers/status.ts does not carry (it holds
// exactly the reference's list): [MS-ERREF] 2.3.1's values, with their names for traces.

import { STATUS_SUCCESS, statusName } from '../../../headers/index.js';

/** The DC has no machine account of that name ("no computer account for this workstation trust"). */
export const STATUS_NO_TRUST_SAM_ACCOUNT = 0xc000018b;
/** "The trust relationship between this workstation and the primary domain failed": the DC refused the machine's proof, or its own did not verify. */
export const STATUS_TRUSTED_RELATIONSHIP_FAILURE = 0xc000018d;

const NAMES: ReadonlyMap<number, string> = new Map([
  // headers/status.ts spells 0 SEC_E_OK; Netlogon's calls are NTSTATUS.
  [STATUS_SUCCESS, 'STATUS_SUCCESS'],
  [STATUS_NO_TRUST_SAM_ACCOUNT, 'STATUS_NO_TRUST_SAM_ACCOUNT'],
  [STATUS_TRUSTED_RELATIONSHIP_FAILURE, 'STATUS_TRUSTED_RELATIONSHIP_FAILURE'],
]);

/** A status's name: these, or whatever headers/status.ts calls it. */
export function netlogonStatusName(status: number): string {
  return NAMES.get(status >>> 0) ?? statusName(status);
}
