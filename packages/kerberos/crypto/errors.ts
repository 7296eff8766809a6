// The one error class of the Kerberos cryptosystem. Every refusal, whatever the caller handed in
// (a hostile ciphertext, a key of the wrong size, an etype nobody implements), is a
// KerberosCryptoError whose code says which; nothing else is thrown. The Kerberos package maps the
// codes to KRB-ERROR codes and SSPI statuses (the comments name the usual ones); this layer knows
// neither.

import { EmuError, registerErrorClass } from '../../kit/index.js';

export type KerberosCryptoErrorCode =
  /** An encryption type this cryptosystem does not implement (KDC_ERR_ETYPE_NOSUPP, 14). */
  | 'UNKNOWN_ETYPE'
  /** A checksum type this cryptosystem does not implement (KDC_ERR_SUMTYPE_NOSUPP, 15). */
  | 'UNKNOWN_CKSUMTYPE'
  /** A key whose length is not its etype's, or whose etype is not the checksum type's (MIT's KRB5_BAD_KEYSIZE, KRB5_BAD_ENCTYPE). */
  | 'BAD_KEY'
  /** A ciphertext shorter than confounder plus checksum, a checksum, confounder or cipher state of the wrong size (MIT's KRB5_BAD_MSIZE). */
  | 'BAD_LENGTH'
  /** The ciphertext's HMAC does not match: altered, truncated, or the wrong key or usage (KRB_AP_ERR_BAD_INTEGRITY, 31). */
  | 'BAD_INTEGRITY'
  /** String-to-key parameters that are not four octets, or an iteration count outside the accepted range (MIT's KRB5_ERR_BAD_S2K_PARAMS). */
  | 'BAD_S2K_PARAMS'
  /** An argument of the wrong kind: a key usage outside 0..2^32-1, something that is not bytes. */
  | 'BAD_ARGUMENT';

export const KERBEROS_CRYPTO_ERROR_CODES: readonly KerberosCryptoErrorCode[] = [
  'UNKNOWN_ETYPE',
  'UNKNOWN_CKSUMTYPE',
  'BAD_KEY',
  'BAD_LENGTH',
  'BAD_INTEGRITY',
  'BAD_S2K_PARAMS',
  'BAD_ARGUMENT',
];

export class KerberosCryptoError extends EmuError<KerberosCryptoErrorCode> {
  override readonly name = 'KerberosCryptoError';
}

// Registered so that the error survives a crossing (the LSA's work pool runs this code in other threads).
registerErrorClass('KerberosCryptoError', KerberosCryptoError, KERBEROS_CRYPTO_ERROR_CODES);
