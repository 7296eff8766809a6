// NTLM test vectors, transcribed from ../shared/reference/test-vectors.md (MS-NLMP 4.2 via
// gss-ntlmssp and pyspnego, the Windows 2008 R2 capture, a Samba capture). Hex as on the wire.

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** MS-NLMP 4.2.1 common values. */
export const COMMON = {
  user: 'User',
  domain: 'Domain',
  password: 'Password',
  serverName: 'Server',
  workstation: 'COMPUTER',
  randomSessionKey: fromHex('55555555555555555555555555555555'),
  time: fromHex('0000000000000000'),
  clientChallenge: fromHex('aaaaaaaaaaaaaaaa'),
  serverChallenge: fromHex('0123456789abcdef'),
  /** "Plaintext" in UTF-16LE, the wrap examples' input. */
  plaintext: fromHex('50006c00610069006e007400650078007400'),
} as const;

/** MS-NLMP 4.2.2, NTLMv1 without extended session security. */
export const NTLMV1 = {
  challengeFlags: 0xe2028233,
  ntowfv1: 'a4f49c406510bdcab6824ee7c30fd852',
  sessionBaseKey: 'd87262b0cde4b1cb7499becccdf10784',
  encryptedRandomSessionKey: '518822b1b3f350c8958682ecbb3e3cb7',
  sealKey56WithLmKey: '55555555555555a0',
  sealKey40WithLmKey: '5555555555e538b0',
  challengeMessage: fromHex(
    '4e544c4d53535000020000000c000c0038000000338202e20123456789abcdef00000000000000000000000000000000060070170000000f530065007200760065007200',
  ),
  authenticateMessage: fromHex(`
    4e544c4d5353500003000000180018006c00000018001800840000000c000c00480000000800080054000000100010005c000000100010009c000000358280e2
    0501280a0000000f44006f006d00610069006e00550073006500720043004f004d005000550054004500520098def7b87f88aa5dafe2df779688a172def11c7d
    5ccdef1367c43011f30298a2ad35ece64f16331c44bdbed927841f94518822b1b3f350c8958682ecbb3e3cb7`),
  lmChallengeResponse: '98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13',
  ntChallengeResponse: '67c43011f30298a2ad35ece64f16331c44bdbed927841f94',
  /** 4.2.2.4 GSS_WrapEx. */
  sealedPlaintext: '56fe04d861f9319af0d7238a2e3b4d457fb8',
  crc32Plaintext: '7d84aa93',
  signature: '010000000000000009dcd1df2e459d36',
} as const;

/** MS-NLMP 4.2.3, NTLMv1 with extended session security. */
export const NTLMV1_ESS = {
  flags: 0x820a8233,
  lmChallengeResponse: 'aaaaaaaaaaaaaaaa00000000000000000000000000000000',
  keyExchangeKey: 'eb93429a8bd952f8b89c55b87f475edc',
  clientSealKey56: '04dd7f014d8504d265a25cc86a3a7c06',
  clientSignKey: '60e799be5c72fc92922ae8ebe961fb8d',
  /** 4.2.3.4 GSS_WrapEx. */
  sealedPlaintext: 'a02372f6530273f3aa1eb90190ce5200c99d',
  signature: '01000000ff2aeb52f681793a00000000',
} as const;

/** MS-NLMP 4.2.4, NTLMv2. */
export const NTLMV2 = {
  challengeFlags: 0xe28a8233,
  authenticateFlags: 0xe2888235,
  targetInfo: '02000c0044006f006d00610069006e0001000c00530065007200760065007200' + '00000000',
  responseKeyNT: '0c868a403bfd7a93a3001ef22ef02e3f',
  temp:
    '0101000000000000' +
    '0000000000000000' +
    'aaaaaaaaaaaaaaaa' +
    '00000000' +
    '02000c0044006f006d00610069006e0001000c005300650072007600650072000000' +
    '0000' +
    '00000000',
  ntProofStr: '68cd0ab851e51c96aabc927bebef6a1c',
  lmv2Response: '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa',
  sessionBaseKey: '8de40ccadbc14a82f15cb0ad0de95ca3',
  encryptedRandomSessionKey: 'c5dad2544fc9799094ce1ce90bc9d03e',
  clientSignKey: '4788dc861b4782f35d43fd98fe1a2d39',
  serverSignKey: 'd04d6f10741041d1d246d64188d7a8ad',
  clientSealKey128: '59f600973cc4960a25480a7c196e4c58',
  serverSealKey128: '9355f3a957c1583d25c4c2f11e40390e',
  clientSealKey56: 'a5f7253c1065e8d3d68642040e71cfe0',
  serverSealKey56: '583e2f98959b385cd158f3734b5f5d3f',
  clientSealKey40: '42f964a471091a02ff4a77455366e4e5',
  serverSealKey40: 'c5d3853b406b7c1241c595f0ce0750e2',
  challengeMessage: fromHex(`
    4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000
    060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c005300650072007600
    6500720000000000`),
  authenticateMessage: fromHex(`
    4e544c4d5353500003000000180018006c00000054005400840000000c000c00480000000800080054000000100010005c00000010001000d8000000358288e2
    0501280a0000000f44006f006d00610069006e00550073006500720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaa
    aaaaaaaa68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e00
    01000c005300650072007600650072000000000000000000c5dad2544fc9799094ce1ce90bc9d03e`),
  /** 4.2.4.4 GSS_WrapEx. */
  sealedPlaintext: '54e50165bf1936dc996020c1811b0f06fb5f',
  plainChecksum: '70352851f2564309',
  signature: '010000007fb38ec5c55d497600000000',
  signatureWithoutKeyExch: '0100000070352851f256430900000000',
} as const;

/** The Windows 2008 R2 / Windows 7 AUTHENTICATE_MESSAGE with channel bindings (test-vectors.md 5.1). */
export const WIN2008R2 = {
  password: 'P@ssw0rd',
  ntowfv1: 'e19ccf75ee54e06b06a5907af13cef42',
  user: 'Administrator',
  domain: 'WS2008R2',
  workstation: 'WIN7-2-PC',
  serverChallenge: fromHex('a2c5e8ca3084aa72'),
  flags: 0xa2888205,
  mic: 'f054a542b090b66c1fea1a2cc82e930b',
  ntProofStr: '5a6a21ae1a44c044693eee59fc5d81e0',
  channelBindings: '6586e99d81c2fc984e47172fd4dd0310',
  targetName: 'HTTP/dc-ws2008r2.ws2008r2.local',
  timestamp: '7be73fc30bdecd01',
  authenticateMessage: fromHex(`
    4e544c4d535350000300000018001800940000007c017c01ac00000010001000580000001a001a0068000000120012008200
    00000000000028020000058288a20601b01d0000000ff054a542b090b66c1fea1a2cc82e930b570053003200300030003800
    52003200410064006d0069006e006900730074007200610074006f007200570049004e0037002d0032002d00500043000000
    000000000000000000000000000000000000000000005a6a21ae1a44c044693eee59fc5d81e001010000000000007be73fc3
    0bdecd0127fc118082c2fbdd00000000020010005700530032003000300038005200320001001600440043002d0057005300
    32003000300038005200320004001c00770073003200300030003800720032002e006c006f00630061006c00030034004400
    43002d00770073003200300030003800720032002e00770073003200300030003800720032002e006c006f00630061006c00
    05001c00770073003200300030003800720032002e006c006f00630061006c00070008007be73fc30bdecd01060004000200
    000008003000300000000000000001000000002000004d6b0d27541022f5ffa673da2bfcfdf1942f257be11a49c954197aca
    8aaf2eaf0a0010006586e99d81c2fc984e47172fd4dd031009003e0048005400540050002f00640063002d00770073003200
    300030003800720032002e00770073003200300030003800720032002e006c006f00630061006c0000000000000000000000
    0000`),
} as const;

/** Token 1 of the Samba ntlm_auth exchange (test-vectors.md 7): a 40-byte NEGOTIATE_MESSAGE, flags 0x62088235. */
export const SAMBA_NEGOTIATE = fromHex('4e544c4d53535000010000003582086200000000280000000000000028000000060100000000000f');

/**
 * GNU wget 1.21.3's NTLM (Debian 12), captured against `sspi-emu serve --http` with alice and
 * Passw0rd!: its 32-byte NEGOTIATE (OEM | NTLM) and its AUTHENTICATE (flags UNICODE | NTLM |
 * ALWAYS_SIGN, yet the user name "alice" in 5 bytes; 24-byte LM and NT responses: NTLMv1).
 */
export const WGET = {
  negotiate: Buffer.from('TlRMTVNTUAABAAAAAgIAAAAAAAAgAAAAAAAAACAAAAA=', 'base64'),
  authenticate: Buffer.from(
    'TlRMTVNTUAADAAAAGAAYAEUAAAAYABgAXQAAAAAAAABAAAAABQAFAEAAAAAAAAAARQAAAAAAAAB1AAAAAYIAAGFsaWNlB9F3rKhh1+MK6aimiZs3TBKdl2d4ErFDZ4Ivz07+AwBkdS7BhudFHeVJ00Ag+NjH',
    'base64',
  ),
  authenticateFlags: 0x00008201,
} as const;
