// SPNEGO vectors from ../shared/reference/test-vectors.md section 7: DER constants, a Windows
// NegTokenInit2 (pyspnego tests/data/initial_context_token_neg_token_init2) and tokens of an
// NTLM-in-SPNEGO exchange captured between Samba's ntlm_auth client and server.

export const hexBytes = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

/** OIDs with tag and length. */
export const DER_OIDS = {
  '1.3.6.1.5.5.2': '06062b0601050502',
  '1.3.6.1.4.1.311.2.2.10': '060a2b06010401823702020a',
  '1.2.840.113554.1.2.2': '06092a864886f712010202',
  '1.2.840.48018.1.2.2': '06092a864882f712010202',
  '1.3.6.1.4.1.311.2.2.30': '060a2b06010401823702021e',
} as const;

/** MechTypeList [Kerberos, NTLM] (pyspnego) and [NTLM]. */
export const MECH_TYPE_LIST_KRB5_NTLM = '3017' + '06092a864886f712010202' + '060a2b06010401823702020a';
export const MECH_TYPE_LIST_NTLM = '300c060a2b06010401823702020a';

/** A Windows-style NegTokenInit2 a server sends first: NegoEx, MS-KRB5, KRB5, KRB5-U2U, NTLM; hint name; no mechToken. */
export const WINDOWS_NEG_TOKEN_INIT2 =
  '607606062b0601050502a06c306aa03c303a060a2b06010401823702021e06092a864882f71201020206092a864886f712010202' +
  '060a2a864886f71201020203060a2b06010401823702020aa32a3028a0261b246e6f745f646566696e65645f696e5f5246433431373840706c65' +
  '6173655f69676e6f7265';

/** Samba ntlm_auth gss-spnego-client's first token: NegTokenInit { mechTypes [NTLM], mechToken = NEGOTIATE (40 bytes, flags 0x62088235) }. */
export const SAMBA_NEG_TOKEN_INIT =
  '604806062b0601050502a03e303ca00e300c060a2b06010401823702020aa22a04284e544c4d53535000010000003582086200000000280000000000000028000000060100000000000f';

/** The start of the server's last token in that capture: NegTokenResp { accept-completed, mechListMIC (16 bytes follow) }. */
export const SAMBA_FINAL_RESP_PREFIX = 'a11b3019a0030a0100a3120410';
