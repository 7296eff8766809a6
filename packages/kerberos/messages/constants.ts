// The numbers of Kerberos' messages, as data (RFC 4120 sections 5, 6 and 7.5, with the RFCs and
// MS-KILE sections that added to them): message types, name types, pre-authentication data types,
// address, authorization-data and last-request types, and the three flag sets, whose bits RFC 4120
// numbers from the most significant bit of a 32-bit BIT STRING (bit 0 is 0x80000000).

/** The protocol version number every message carries (pvno, tkt-vno, authenticator-vno). */
export const KRB5_PVNO = 5;

/** msg-type, which is also each message's APPLICATION tag number (RFC 4120 5.10 and 7.5.7). */
export const KRB_MSG_TYPE = {
  /** Ticket is [APPLICATION 1], Authenticator [APPLICATION 2], EncTicketPart [APPLICATION 3]: not messages, but tagged. */
  AS_REQ: 10,
  AS_REP: 11,
  TGS_REQ: 12,
  TGS_REP: 13,
  AP_REQ: 14,
  AP_REP: 15,
  KRB_SAFE: 20,
  KRB_PRIV: 21,
  KRB_CRED: 22,
  KRB_ERROR: 30,
} as const;

/** The APPLICATION tag numbers of the structures that are not messages (RFC 4120 5.10). */
export const KRB_APPLICATION = {
  TICKET: 1,
  AUTHENTICATOR: 2,
  ENC_TICKET_PART: 3,
  ENC_AS_REP_PART: 25,
  ENC_TGS_REP_PART: 26,
  ENC_AP_REP_PART: 27,
  ENC_KRB_PRIV_PART: 28,
  ENC_KRB_CRED_PART: 29,
} as const;

export const KRB_MSG_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'Ticket'],
  [2, 'Authenticator'],
  [3, 'EncTicketPart'],
  [10, 'AS-REQ'],
  [11, 'AS-REP'],
  [12, 'TGS-REQ'],
  [13, 'TGS-REP'],
  [14, 'AP-REQ'],
  [15, 'AP-REP'],
  [20, 'KRB-SAFE'],
  [21, 'KRB-PRIV'],
  [22, 'KRB-CRED'],
  [25, 'EncASRepPart'],
  [26, 'EncTGSRepPart'],
  [27, 'EncAPRepPart'],
  [28, 'EncKrbPrivPart'],
  [29, 'EncKrbCredPart'],
  [30, 'KRB-ERROR'],
]);

/** Principal name types (RFC 4120 6.2; KRB_NT_ENTERPRISE_PRINCIPAL from RFC 6806; MS-KILE's use of them). */
export const KRB_NT = {
  UNKNOWN: 0,
  PRINCIPAL: 1,
  SRV_INST: 2,
  SRV_HST: 3,
  SRV_XHST: 4,
  UID: 5,
  X500_PRINCIPAL: 6,
  SMTP_NAME: 7,
  ENTERPRISE_PRINCIPAL: 10,
  WELLKNOWN: 11,
  /** Windows' own (ntsecapi.h KRB_NT_MS_*), negative as private name types are. */
  MS_PRINCIPAL: -128,
  MS_PRINCIPAL_AND_ID: -129,
  ENT_PRINCIPAL_AND_ID: -130,
} as const;

/** Pre-authentication and typed data types (RFC 4120 7.5.2 and 7.5.9; RFC 6113; MS-KILE 2.2.3 for 128). */
export const PA_TYPE = {
  TGS_REQ: 1,
  ENC_TIMESTAMP: 2,
  PW_SALT: 3,
  ENC_UNIX_TIME: 5,
  SANDIA_SECUREID: 6,
  SESAME: 7,
  OSF_DCE: 8,
  CYBERSAFE_SECUREID: 9,
  AFS3_SALT: 10,
  ETYPE_INFO: 11,
  SAM_CHALLENGE: 12,
  SAM_RESPONSE: 13,
  PK_AS_REQ: 16,
  PK_AS_REP: 17,
  ETYPE_INFO2: 19,
  SVR_REFERRAL_INFO: 20,
  SAM_REDIRECT: 21,
  GET_FROM_TYPED_DATA: 22,
  /** MS-KILE 2.2.3: KERB-PA-PAC-REQUEST, whether the client wants a PAC. */
  PAC_REQUEST: 128,
  FOR_USER: 129,
  FX_COOKIE: 133,
  FX_FAST: 136,
  FX_ERROR: 137,
  ENCRYPTED_CHALLENGE: 138,
  /** RFC 6806 11: the client can take a KDC's encrypted-pa-data (enc-pa-rep). */
  REQ_ENC_PA_REP: 149,
  /** RFC 8070: the KDC's freshness token (PKINIT); MIT clients send it empty to ask for one. */
  AS_FRESHNESS: 150,
  PAC_OPTIONS: 167,
} as const;

/** Host address types (RFC 4120 7.5.3). */
export const ADDR_TYPE = {
  IPV4: 2,
  DIRECTIONAL: 3,
  CHAOSNET: 5,
  XNS: 6,
  ISO: 7,
  DECNET_PHASE_IV: 12,
  APPLETALK_DDP: 16,
  NETBIOS: 20,
  IPV6: 24,
} as const;

/** Authorization data types (RFC 4120 7.5.4; MS-KILE and MS-PAC for 128 and 141-142). */
export const AD_TYPE = {
  IF_RELEVANT: 1,
  INTENDED_FOR_SERVER: 2,
  INTENDED_FOR_APPLICATION_CLASS: 3,
  KDC_ISSUED: 4,
  AND_OR: 5,
  MANDATORY_TICKET_EXTENSIONS: 6,
  IN_TICKET_EXTENSIONS: 7,
  MANDATORY_FOR_KDC: 8,
  OSF_DCE: 64,
  SESAME: 65,
  OSF_DCE_PKI_CERTID: 66,
  /** MS-PAC: the Privilege Attribute Certificate, inside AD-IF-RELEVANT. */
  WIN2K_PAC: 128,
  ETYPE_NEGOTIATION: 129,
  AUTH_DATA_AP_OPTIONS: 143,
} as const;

/** Last-request types (RFC 4120 5.4.2; negative values are about this one client only). */
export const LR_TYPE = {
  NONE: 0,
  INITIAL_TGT: 1,
  INITIAL: 2,
  ISSUE_USE_TGT: 3,
  RENEWAL: 4,
  REQUEST: 5,
  PW_EXPTIME: 6,
  ACCT_EXPTIME: 7,
} as const;

/** Transited encoding types (RFC 4120 7.5.5). */
export const TR_TYPE = { DOMAIN_X500_COMPRESS: 1 } as const;

/** A KerberosFlags bit (RFC 4120 5.2.8: bit 0 is the most significant bit of the first octet) as a uint32. */
export function kerberosFlag(bit: number): number {
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new RangeError(`KerberosFlags bit ${bit} is outside 0..31`);
  return 0x80000000 >>> bit;
}

/** KDCOptions (RFC 4120 5.4.1; 14 from MS-SFU 2.2.3, 15 from RFC 6806, 16 from RFC 8062). Bit numbers in the comments. */
export const KDC_OPTIONS = {
  /** 0 */ RESERVED: 0x80000000,
  /** 1 */ FORWARDABLE: 0x40000000,
  /** 2 */ FORWARDED: 0x20000000,
  /** 3 */ PROXIABLE: 0x10000000,
  /** 4 */ PROXY: 0x08000000,
  /** 5 */ ALLOW_POSTDATE: 0x04000000,
  /** 6 */ POSTDATED: 0x02000000,
  /** 8 */ RENEWABLE: 0x00800000,
  /** 11 */ OPT_HARDWARE_AUTH: 0x00100000,
  /** 14: S4U2Proxy's evidence ticket is in additional-tickets (MS-SFU). */ CNAME_IN_ADDL_TKT: 0x00020000,
  /** 15 */ CANONICALIZE: 0x00010000,
  /** 16 */ REQUEST_ANONYMOUS: 0x00008000,
  /** 26 */ DISABLE_TRANSITED_CHECK: 0x00000020,
  /** 27 */ RENEWABLE_OK: 0x00000010,
  /** 28 */ ENC_TKT_IN_SKEY: 0x00000008,
  /** 30 */ RENEW: 0x00000002,
  /** 31 */ VALIDATE: 0x00000001,
} as const;

/** TicketFlags (RFC 4120 5.3; 15 from RFC 6806, 16 from RFC 8062). Bit numbers in the comments. */
export const TICKET_FLAGS = {
  /** 0 */ RESERVED: 0x80000000,
  /** 1 */ FORWARDABLE: 0x40000000,
  /** 2 */ FORWARDED: 0x20000000,
  /** 3 */ PROXIABLE: 0x10000000,
  /** 4 */ PROXY: 0x08000000,
  /** 5 */ MAY_POSTDATE: 0x04000000,
  /** 6 */ POSTDATED: 0x02000000,
  /** 7 */ INVALID: 0x01000000,
  /** 8 */ RENEWABLE: 0x00800000,
  /** 9 */ INITIAL: 0x00400000,
  /** 10 */ PRE_AUTHENT: 0x00200000,
  /** 11 */ HW_AUTHENT: 0x00100000,
  /** 12 */ TRANSITED_POLICY_CHECKED: 0x00080000,
  /** 13 */ OK_AS_DELEGATE: 0x00040000,
  /** 15 */ ENC_PA_REP: 0x00010000,
  /** 16 */ ANONYMOUS: 0x00008000,
} as const;

/** APOptions (RFC 4120 5.5.1). */
export const AP_OPTIONS = {
  /** 0 */ RESERVED: 0x80000000,
  /** 1 */ USE_SESSION_KEY: 0x40000000,
  /** 2 */ MUTUAL_REQUIRED: 0x20000000,
} as const;

/** The names of the bits set in `value` (uint32 KerberosFlags), table order; an unnamed bit as "bit N". */
export function kerberosFlagNames(value: number, table: Readonly<Record<string, number>>): string[] {
  const names: string[] = [];
  let rest = value >>> 0;
  for (const [name, bit] of Object.entries(table))
    if ((rest & bit) !== 0) {
      names.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  for (let bit = 0; bit < 32; bit++) if ((rest & kerberosFlag(bit)) !== 0) names.push(`bit ${bit}`);
  return names;
}

/** The bounds every reader here holds a message to: a small message must not make it build a huge one. */
export const KRB_LIMITS = {
  /** Components of a PrincipalName (MIT's longest in practice: 3 or 4). */
  NAME_COMPONENTS: 32,
  /** etype list of a KDC-REQ-BODY (MIT sends 6 to 10). */
  ETYPES: 64,
  /** PA-DATA entries of a request, reply or METHOD-DATA. */
  PA_DATA: 64,
  HOST_ADDRESSES: 64,
  AUTHORIZATION_DATA: 64,
  /** additional-tickets of a KDC-REQ-BODY, tickets of a KRB-CRED. */
  TICKETS: 16,
  LAST_REQ: 16,
  TYPED_DATA: 32,
  ETYPE_INFO2: 32,
} as const;
