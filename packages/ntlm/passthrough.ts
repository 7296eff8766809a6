// NTLM pass-through authentication (MS-APDS 3.1): a member server does not hold the NT hashes of
// its domain's users, so it sends what the client proved (the AUTHENTICATE_MESSAGE's names, the
// server's challenge, the NTLMv2 response) to a domain controller, whose NTLM checks it against
// its account store and answers with the logon's status and, on success, the SessionBaseKey
// (NETLOGON_VALIDATION_SAM_INFO4's UserSessionKey) and the user's names. The member then finishes
// the handshake itself (key exchange, MIC, channel bindings: acceptor.ts finishAuthenticate).
//
// What travels: NETLOGON_NETWORK_INFO (MS-NRPC 2.2.1.4.5) as the request, and the fields of
// NETLOGON_VALIDATION_SAM_INFO4 (2.2.1.4.13) a member uses as the answer, each in the field codec
// of netlogon/fields.ts. The LSA carries them opaquely: the member's NTLM hands the request to the
// LSA function CallPackagePassthrough, the LSA's Netlogon takes it over the secure channel to the
// DC (NetrLogonSamLogonEx, a NETLOGON_GENERIC_INFO for package "NTLM"), and the DC's Netlogon
// delivers it to the DC's NTLM package, LsaApCallPackagePassthrough (lsa.ts), which answers with
// validateNetworkLogon below. Windows' MSV1_0 sends the NETLOGON_NETWORK_INFO as its own logon
// level (NetlogonNetworkInformation, 2) and Netlogon reads it; here Netlogon reads no package's
// data, so it goes as a generic logon's LogonData. The fields are the same.

import { STATUS_LOGON_FAILURE, STATUS_NO_SUCH_USER, STATUS_SUCCESS, STATUS_WRONG_PASSWORD, type Status } from '../../headers/index.js';
import { proveNtlmV2, UNKNOWN_ACCOUNT_KEY, type AccountKey } from './acceptor.js';
import { FieldReader, FieldWriter, NetlogonWireError } from './netlogon/fields.js';

/** MSV1_0_LOGON_SUBMIT_TYPE MsV1_0NetworkLogon (ntsecapi.h: MsV1_0InteractiveLogon = 2, MsV1_0Lm20Logon, MsV1_0NetworkLogon): the request's first field. */
const MSV1_0_NETWORK_LOGON = 4;
/** MSV1_0_PROFILE_BUFFER_TYPE MsV1_0Lm20LogonProfile (MsV1_0InteractiveProfile = 2, MsV1_0Lm20LogonProfile): the answer's first field. */
const MSV1_0_LM20_LOGON_PROFILE = 3;

/**
 * NETLOGON_LOGON_IDENTITY_INFO.ParameterControl bits (MS-NRPC 2.2.1.4.15) a member server sets:
 * MSV1_0_ALLOW_SERVER_TRUST_ACCOUNT (0x20) and MSV1_0_ALLOW_WORKSTATION_TRUST_ACCOUNT (0x800) as
 * Windows' do, and MSV1_0_CLEARTEXT_PASSWORD_ALLOWED is never set (no cleartext crosses).
 */
export const MSV1_0_PARAMETER_CONTROL = 0x20 | 0x800;

/** NETLOGON_NETWORK_INFO: the logon a member passes through. */
export interface NetworkLogonInfo {
  /** Identity.LogonDomainName: the AUTHENTICATE's DomainName (MS-NRPC 2.2.1.4.5 says it MUST match). */
  logonDomainName: string;
  parameterControl: number;
  userName: string;
  workstation: string;
  /** LmChallenge: the server's challenge from its CHALLENGE_MESSAGE. */
  lmChallenge: Uint8Array;
  ntChallengeResponse: Uint8Array;
  lmChallengeResponse: Uint8Array;
}

/** What the DC answers: the logon's status, and on success the SessionBaseKey and the user's names. */
export interface NetworkLogonValidation {
  /** STATUS_SUCCESS, STATUS_NO_SUCH_USER, STATUS_WRONG_PASSWORD, STATUS_LOGON_FAILURE. */
  status: Status;
  /** UserSessionKey: the SessionBaseKey (MS-APDS 3.1.5.1.2); zeros unless status is STATUS_SUCCESS. */
  userSessionKey: Uint8Array;
  /** EffectiveName: the account's name as the DC keeps it. */
  effectiveName: string;
  /** LogonDomainName: the account's domain. */
  logonDomainName: string;
  /** LogonServer: the DC that checked it. */
  logonServer: string;
}

export function packNetworkLogon(info: NetworkLogonInfo): Uint8Array {
  return new FieldWriter()
    .u32(MSV1_0_NETWORK_LOGON)
    .string(info.logonDomainName)
    .u32(info.parameterControl)
    .string(info.userName)
    .string(info.workstation)
    .fixed(info.lmChallenge, 8)
    .blob(info.ntChallengeResponse)
    .blob(info.lmChallengeResponse)
    .bytes();
}

/** Reads a NETLOGON_NETWORK_INFO; a NetlogonWireError for anything else. */
export function unpackNetworkLogon(bytes: Uint8Array): NetworkLogonInfo {
  const r = new FieldReader(bytes);
  const type = r.u32('MessageType');
  if (type !== MSV1_0_NETWORK_LOGON) throw new NetlogonWireError('BAD_VALUE', `MessageType ${type} is not MsV1_0NetworkLogon (4)`, 0);
  const info: NetworkLogonInfo = {
    logonDomainName: r.string('LogonDomainName'),
    parameterControl: r.u32('ParameterControl'),
    userName: r.string('UserName'),
    workstation: r.string('Workstation'),
    lmChallenge: r.fixed(8, 'LmChallenge'),
    ntChallengeResponse: r.blob('NtChallengeResponse'),
    lmChallengeResponse: r.blob('LmChallengeResponse'),
  };
  r.end();
  return info;
}

export function packValidation(v: NetworkLogonValidation): Uint8Array {
  return new FieldWriter()
    .u32(MSV1_0_LM20_LOGON_PROFILE)
    .u32(v.status)
    .fixed(v.userSessionKey, 16)
    .string(v.effectiveName)
    .string(v.logonDomainName)
    .string(v.logonServer)
    .bytes();
}

/** Reads the DC's answer; a NetlogonWireError for anything else. */
export function unpackValidation(bytes: Uint8Array): NetworkLogonValidation {
  const r = new FieldReader(bytes);
  const type = r.u32('MessageType');
  if (type !== MSV1_0_LM20_LOGON_PROFILE) throw new NetlogonWireError('BAD_VALUE', `MessageType ${type} is not MsV1_0Lm20LogonProfile (3)`, 0);
  const v: NetworkLogonValidation = {
    status: r.u32('status'),
    userSessionKey: r.fixed(16, 'UserSessionKey'),
    effectiveName: r.string('EffectiveName'),
    logonDomainName: r.string('LogonDomainName'),
    logonServer: r.string('LogonServer'),
  };
  r.end();
  return v;
}

/**
 * The DC's side (MS-APDS 3.1.5.1.2): the user's account looked up by name (whatever domain the
 * client gave: this DC's domain is the only one it holds), the NTLMv2 response proved against its
 * NT hash with the names and challenge the member sent, as a local server proves it. An unknown
 * user costs the same HMACs as a wrong password (STATUS_NO_SUCH_USER and STATUS_WRONG_PASSWORD, as
 * Windows' DCs answer; the member answers both SEC_E_LOGON_DENIED); a response that is not NTLMv2
 * is STATUS_LOGON_FAILURE.
 */
export function validateNetworkLogon(
  info: NetworkLogonInfo,
  lookup: (userName: string) => AccountKey | undefined,
  dc: { domainName: string; computerName: string },
): NetworkLogonValidation {
  const refused = (status: Status): NetworkLogonValidation => ({
    status,
    userSessionKey: new Uint8Array(16),
    effectiveName: '',
    logonDomainName: '',
    logonServer: dc.computerName,
  });
  // An NTLMv2_RESPONSE is NTProofStr (16) and a CLIENT_CHALLENGE of at least 28 bytes; 24 is NTLMv1.
  if (info.ntChallengeResponse.length <= 24 || info.userName === '') return refused(STATUS_LOGON_FAILURE);
  const account = lookup(info.userName);
  const message = { userName: info.userName, domainName: info.logonDomainName, ntChallengeResponse: info.ntChallengeResponse };
  const sessionBaseKey = proveNtlmV2(account?.ntHash ?? UNKNOWN_ACCOUNT_KEY, message, info.lmChallenge);
  if (account === undefined) return refused(STATUS_NO_SUCH_USER);
  if (sessionBaseKey === undefined) return refused(STATUS_WRONG_PASSWORD);
  const slash = account.name.lastIndexOf('\\');
  return {
    status: STATUS_SUCCESS,
    userSessionKey: sessionBaseKey,
    effectiveName: slash >= 0 ? account.name.slice(slash + 1) : account.name,
    logonDomainName: slash >= 0 ? account.name.slice(0, slash) : dc.domainName,
    logonServer: dc.computerName,
  };
}
