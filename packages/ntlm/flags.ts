// NTLM wire constants: NegotiateFlags (MS-NLMP 2.2.2.5), AV_PAIR ids (2.2.2.1) and the
// MsvAvFlags bits (2.2.2.1). Data only, plus the helpers that spell a value out for traces.

import { flagNames } from '../../headers/index.js';

/**
 * NegotiateFlags bits, MS-NLMP 2.2.2.5 (letters A..W from the low bit). The keys drop the common
 * NTLMSSP_NEGOTIATE_ prefix; ntlmFlagNames() restores the full names, including the few the
 * specification spells differently (NTLM_NEGOTIATE_OEM, NTLMSSP_REQUEST_TARGET, NTLMSSP_TARGET_TYPE_*,
 * NTLMSSP_REQUEST_NON_NT_SESSION_KEY).
 */
export const NTLMSSP_NEGOTIATE = {
  UNICODE: 0x00000001, // A
  OEM: 0x00000002, // B
  REQUEST_TARGET: 0x00000004, // C
  SIGN: 0x00000010, // D
  SEAL: 0x00000020, // E
  DATAGRAM: 0x00000040, // F
  LM_KEY: 0x00000080, // G
  NTLM: 0x00000200, // H
  ANONYMOUS: 0x00000800, // J
  OEM_DOMAIN_SUPPLIED: 0x00001000, // K
  OEM_WORKSTATION_SUPPLIED: 0x00002000, // L
  ALWAYS_SIGN: 0x00008000, // M
  TARGET_TYPE_DOMAIN: 0x00010000, // N
  TARGET_TYPE_SERVER: 0x00020000, // O
  EXTENDED_SESSIONSECURITY: 0x00080000, // P
  IDENTIFY: 0x00100000, // Q
  REQUEST_NON_NT_SESSION_KEY: 0x00400000, // R
  TARGET_INFO: 0x00800000, // S
  VERSION: 0x02000000, // T
  128: 0x20000000, // U
  KEY_EXCH: 0x40000000, // V
  56: 0x80000000, // W
} as const;

export type NtlmNegotiateFlag = keyof typeof NTLMSSP_NEGOTIATE;

/** The specification's name where it is not NTLMSSP_NEGOTIATE_ + key. */
const SPEC_FLAG_NAMES: ReadonlyMap<NtlmNegotiateFlag, string> = new Map<NtlmNegotiateFlag, string>([
  ['OEM', 'NTLM_NEGOTIATE_OEM'],
  ['REQUEST_TARGET', 'NTLMSSP_REQUEST_TARGET'],
  ['TARGET_TYPE_DOMAIN', 'NTLMSSP_TARGET_TYPE_DOMAIN'],
  ['TARGET_TYPE_SERVER', 'NTLMSSP_TARGET_TYPE_SERVER'],
  ['REQUEST_NON_NT_SESSION_KEY', 'NTLMSSP_REQUEST_NON_NT_SESSION_KEY'],
]);

/** Bits in the order of the table above, each with its full MS-NLMP name. */
const NAMED_FLAGS: Readonly<Record<string, number>> = Object.fromEntries(
  (Object.entries(NTLMSSP_NEGOTIATE) as [NtlmNegotiateFlag, number][])
    .sort((a, b) => a[1] - b[1])
    .map(([key, bit]) => [SPEC_FLAG_NAMES.get(key) ?? `NTLMSSP_NEGOTIATE_${key}`, bit]),
);

/** The MS-NLMP names of the bits set in `flags`, low bit first; unknown bits as one hex remainder. */
export function ntlmFlagNames(flags: number): string[] {
  return flagNames(flags, NAMED_FLAGS);
}

/** AV_PAIR AvId values, MS-NLMP 2.2.2.1. */
export const MSV_AV = {
  MsvAvEOL: 0x0000,
  MsvAvNbComputerName: 0x0001,
  MsvAvNbDomainName: 0x0002,
  MsvAvDnsComputerName: 0x0003,
  MsvAvDnsDomainName: 0x0004,
  MsvAvDnsTreeName: 0x0005,
  MsvAvFlags: 0x0006,
  MsvAvTimestamp: 0x0007,
  MsvAvSingleHost: 0x0008,
  MsvAvTargetName: 0x0009,
  MsvAvChannelBindings: 0x000a,
} as const;

export type MsvAvName = keyof typeof MSV_AV;

const MSV_AV_NAMES: ReadonlyMap<number, MsvAvName> = new Map((Object.entries(MSV_AV) as [MsvAvName, number][]).map(([name, id]) => [id, name]));

/** The MS-NLMP name of an AvId, or "AvId 0x00nn" for one the specification does not define. */
export function msvAvName(id: number): string {
  return MSV_AV_NAMES.get(id) ?? `AvId 0x${id.toString(16).padStart(4, '0')}`;
}

/** AvIds whose value is a UTF-16LE string (2.2.2.1). */
export const MSV_AV_STRING_IDS: ReadonlySet<number> = new Set([
  MSV_AV.MsvAvNbComputerName,
  MSV_AV.MsvAvNbDomainName,
  MSV_AV.MsvAvDnsComputerName,
  MSV_AV.MsvAvDnsDomainName,
  MSV_AV.MsvAvDnsTreeName,
  MSV_AV.MsvAvTargetName,
]);

/** The exact value length of the AvIds that have one (2.2.2.1, 2.2.2.2 Single_Host_Data). */
export const MSV_AV_FIXED_LENGTH: ReadonlyMap<number, number> = new Map([
  [MSV_AV.MsvAvEOL, 0],
  [MSV_AV.MsvAvFlags, 4],
  [MSV_AV.MsvAvTimestamp, 8],
  [MSV_AV.MsvAvChannelBindings, 16],
]);

/** MsvAvFlags value bits, MS-NLMP 2.2.2.1 (the specification describes them without names). */
export const MSV_AV_FLAGS = {
  /** 0x1: the account authentication is constrained (server to client). */
  CONSTRAINED_AUTHENTICATION: 0x00000001,
  /** 0x2: the client provides a MIC in the AUTHENTICATE_MESSAGE. */
  MIC_PRESENT: 0x00000002,
  /** 0x4: the client's target SPN came from an untrusted source. */
  SPN_UNTRUSTED_SOURCE: 0x00000004,
} as const;

/** The names of the MsvAvFlags bits set in `value`. */
export function msvAvFlagNames(value: number): string[] {
  return flagNames(value, MSV_AV_FLAGS);
}
