// klist: a process's Kerberos ticket cache as Windows' klist reads it, through the process's own
// LSA API (LsaConnectUntrusted, LsaLookupAuthenticationPackage("Kerberos"), LsaCallAuthenticationPackage
// with KerbQueryTicketCacheExMessage for its own logon), and printed as klist prints it. What
// `run --klist` shows after the handshake. Names, times, flags and etypes only: the package answers
// nothing else.

import {
  KERB_PROTOCOL_MESSAGE_TYPE,
  KERB_TICKET_FLAGS,
  MICROSOFT_KERBEROS_NAME_A,
  STATUS_SUCCESS,
  dateFromTimeStamp,
  flagNames,
  isSuccess,
  kerbEtypeName,
  packKerbQueryTktCacheRequest,
  statusName,
  unpackKerbQueryTktCacheExResponse,
  type KerbTicketCacheInfoEx,
  type Status,
} from '../headers/index.js';
import type { AppProcess } from '../machine/index.js';

export interface KlistReport {
  /** The first status that was not a success: the call's, or the message's (ProtocolStatus); STATUS_SUCCESS when the cache was read. */
  status: Status;
  statusName: string;
  /** Which call answered `status`. */
  failedAt?: string;
  tickets: KerbTicketCacheInfoEx[];
}

/** An NTSTATUS by name (0 as STATUS_SUCCESS: statusName spells it SEC_E_OK). */
const ntName = (status: Status): string => (status === STATUS_SUCCESS ? 'STATUS_SUCCESS' : statusName(status));

/** The ticket cache of `proc`'s own logon, as klist reads it. */
export async function klist(proc: AppProcess): Promise<KlistReport> {
  const failed = (status: Status, failedAt: string): KlistReport => ({ status, statusName: ntName(status), failedAt, tickets: [] });
  const connected = await proc.sspi.lsaConnectUntrusted();
  if (!isSuccess(connected.status) || connected.lsaHandle === undefined) return failed(connected.status, 'LsaConnectUntrusted');
  const handle = connected.lsaHandle;
  try {
    const lookup = await proc.sspi.lsaLookupAuthenticationPackage(handle, MICROSOFT_KERBEROS_NAME_A);
    if (!isSuccess(lookup.status) || lookup.authenticationPackage === undefined) return failed(lookup.status, 'LsaLookupAuthenticationPackage');
    const request = packKerbQueryTktCacheRequest({ MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage, LogonId: 0n });
    const answer = await proc.sspi.lsaCallAuthenticationPackage(handle, lookup.authenticationPackage, request);
    if (!isSuccess(answer.status)) return failed(answer.status, 'LsaCallAuthenticationPackage');
    const protocolStatus = answer.protocolStatus ?? STATUS_SUCCESS;
    if (!isSuccess(protocolStatus)) return failed(protocolStatus, 'KerbQueryTicketCacheExMessage');
    const response = answer.returnBuffer === undefined ? undefined : unpackKerbQueryTktCacheExResponse(answer.returnBuffer);
    if (response === undefined) return failed(STATUS_SUCCESS, 'KerbQueryTicketCacheExMessage (no KERB_QUERY_TKT_CACHE_EX_RESPONSE)');
    return { status: STATUS_SUCCESS, statusName: 'STATUS_SUCCESS', tickets: response.Tickets };
  } finally {
    await proc.sspi.lsaDeregisterLogonProcess(handle);
  }
}

/** The report as Windows' klist prints a cache: "Cached Tickets: (N)", then each ticket. */
export function formatKlist(report: KlistReport): string[] {
  if (report.failedAt !== undefined) return [`klist: ${report.failedAt} answered ${report.statusName}`];
  const lines = [`Cached Tickets: (${report.tickets.length})`];
  report.tickets.forEach((t, i) => {
    const time = (ft: bigint): string => (ft === 0n ? '-' : dateFromTimeStamp(ft).toISOString());
    lines.push(
      '',
      `#${i}>\tClient: ${t.ClientName} @ ${t.ClientRealm}`,
      `\tServer: ${t.ServerName} @ ${t.ServerRealm}`,
      `\tKerbTicket Encryption Type: ${kerbEtypeName(t.EncryptionType)}`,
      `\tTicket Flags 0x${t.TicketFlags.toString(16)} -> ${flagNames(t.TicketFlags, KERB_TICKET_FLAGS).join(' ')}`,
      `\tStart Time: ${time(t.StartTime)}`,
      `\tEnd Time:   ${time(t.EndTime)}`,
      `\tRenew Time: ${time(t.RenewTime)}`,
    );
  });
  return lines;
}
