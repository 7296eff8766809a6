// The Kerberos cryptosystem's numbers, as data: encryption types, checksum types and key usages.
// Encryption and checksum type numbers are IANA's ("Kerberos Encryption Type Numbers", "Kerberos
// Checksum Type Numbers"), which Windows uses too; the names of 17, 18, 15 and 16 are ntsecapi.h's
// (KERB_ETYPE_*, KERB_CHECKSUM_*), and the RFC 8009 pair, which Windows does not define, is named
// in the same style after its IANA name.

/** Encryption types (RFC 3962 section 7, RFC 8009 section 6). */
export const KERB_ETYPE_AES128_CTS_HMAC_SHA1_96 = 17;
export const KERB_ETYPE_AES256_CTS_HMAC_SHA1_96 = 18;
export const KERB_ETYPE_AES128_CTS_HMAC_SHA256_128 = 19;
export const KERB_ETYPE_AES256_CTS_HMAC_SHA384_192 = 20;

/** The encryption types implemented here. */
export type KerbEtype =
  | typeof KERB_ETYPE_AES128_CTS_HMAC_SHA1_96
  | typeof KERB_ETYPE_AES256_CTS_HMAC_SHA1_96
  | typeof KERB_ETYPE_AES128_CTS_HMAC_SHA256_128
  | typeof KERB_ETYPE_AES256_CTS_HMAC_SHA384_192;

/** Checksum types (RFC 3962 section 7, RFC 8009 section 6). */
export const KERB_CHECKSUM_HMAC_SHA1_96_AES128 = 15;
export const KERB_CHECKSUM_HMAC_SHA1_96_AES256 = 16;
export const KERB_CHECKSUM_HMAC_SHA256_128_AES128 = 19;
export const KERB_CHECKSUM_HMAC_SHA384_192_AES256 = 20;

/** The checksum types implemented here. */
export type KerbChecksumType =
  | typeof KERB_CHECKSUM_HMAC_SHA1_96_AES128
  | typeof KERB_CHECKSUM_HMAC_SHA1_96_AES256
  | typeof KERB_CHECKSUM_HMAC_SHA256_128_AES128
  | typeof KERB_CHECKSUM_HMAC_SHA384_192_AES256;

/**
 * Key usage numbers: RFC 4120 section 7.5.1, RFC 4121 section 2 (the GSS-API mechanism's KG-USAGE
 * values) and RFC 6113 (FAST). The usage is mixed into every derived key, so a ciphertext made
 * for one purpose does not decrypt as another.
 */
export const KEY_USAGE = {
  /** AS-REQ PA-ENC-TIMESTAMP padata timestamp, encrypted with the client key (RFC 4120 5.2.7.2). */
  AS_REQ_PA_ENC_TIMESTAMP: 1,
  /** AS-REP and TGS-REP Ticket (with the session key), encrypted with the service key (5.3). */
  KDC_REP_TICKET: 2,
  /** AS-REP encrypted part (with the session key), encrypted with the client key (5.4.2). */
  AS_REP_ENC_PART: 3,
  /** TGS-REQ KDC-REQ-BODY AuthorizationData, encrypted with the TGS session key (5.4.1). */
  TGS_REQ_AD_SESSION_KEY: 4,
  /** TGS-REQ KDC-REQ-BODY AuthorizationData, encrypted with the TGS authenticator subkey (5.4.1). */
  TGS_REQ_AD_SUBKEY: 5,
  /** TGS-REQ PA-TGS-REQ AP-REQ Authenticator cksum, keyed with the TGS session key (5.5.1). */
  TGS_REQ_AUTHENTICATOR_CKSUM: 6,
  /** TGS-REQ PA-TGS-REQ AP-REQ Authenticator, encrypted with the TGS session key (5.5.1). */
  TGS_REQ_AUTHENTICATOR: 7,
  /** TGS-REP encrypted part, encrypted with the TGS session key (5.4.2). */
  TGS_REP_ENC_PART_SESSION_KEY: 8,
  /** TGS-REP encrypted part, encrypted with the TGS authenticator subkey (5.4.2). */
  TGS_REP_ENC_PART_SUBKEY: 9,
  /** AP-REQ Authenticator cksum, keyed with the application session key (5.5.1). */
  AP_REQ_AUTHENTICATOR_CKSUM: 10,
  /** AP-REQ Authenticator (with the subkey), encrypted with the application session key (5.5.1). */
  AP_REQ_AUTHENTICATOR: 11,
  /** AP-REP encrypted part (with the subkey), encrypted with the application session key (5.5.2). */
  AP_REP_ENC_PART: 12,
  /** KRB-PRIV encrypted part (5.7.1). */
  KRB_PRIV_ENC_PART: 13,
  /** KRB-CRED encrypted part (5.8.1). */
  KRB_CRED_ENC_PART: 14,
  /** KRB-SAFE cksum (5.6.1). */
  KRB_SAFE_CKSUM: 15,
  /** AD-KDC-ISSUED checksum (5.2.6.4). */
  AD_KDC_ISSUED_CKSUM: 19,
  /** RFC 4121 2: Wrap tokens sent by the context acceptor. */
  KG_USAGE_ACCEPTOR_SEAL: 22,
  /** RFC 4121 2: MIC tokens sent by the context acceptor. */
  KG_USAGE_ACCEPTOR_SIGN: 23,
  /** RFC 4121 2: Wrap tokens sent by the context initiator. */
  KG_USAGE_INITIATOR_SEAL: 24,
  /** RFC 4121 2: MIC tokens sent by the context initiator. */
  KG_USAGE_INITIATOR_SIGN: 25,
  /** RFC 6113 5.4.2: KrbFastArmoredReq req-checksum, keyed with the armor key. */
  FAST_REQ_CHKSUM: 50,
  /** RFC 6113 5.4.2: KrbFastArmoredReq enc-fast-req, encrypted with the armor key. */
  FAST_ENC: 51,
  /** RFC 6113 5.4.3: KrbFastArmoredRep enc-fast-rep, encrypted with the armor key. */
  FAST_REP: 52,
  /** RFC 6113 5.4.3: KrbFastFinished ticket-checksum. */
  FAST_FINISHED: 53,
  /** RFC 6113 5.4.6: the client's EncryptedChallenge. */
  ENC_CHALLENGE_CLIENT: 54,
  /** RFC 6113 5.4.6: the KDC's EncryptedChallenge. */
  ENC_CHALLENGE_KDC: 55,
  /** RFC 6806 11: the KDC's checksum of the whole AS-REQ in encrypted-pa-data (PA-REQ-ENC-PA-REP), keyed with the reply key. */
  AS_REQ: 56,
  /** RFC 4120 7.5.1: encryption for applications whose protocol names no usage. */
  APP_DATA_ENCRYPT: 1024,
  /** RFC 4120 7.5.1: checksums for applications whose protocol names no usage. */
  APP_DATA_CKSUM: 1025,
} as const;

export type KeyUsageName = keyof typeof KEY_USAGE;
