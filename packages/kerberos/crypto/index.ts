// The Kerberos cryptosystem (RFC 3961, RFC 3962, RFC 8009): what the Kerberos package and the KDC
// use to derive, encrypt, checksum and turn passwords into keys. Everything is synchronous over
// node:crypto, so it runs as well in the LSA's work pool as on its dispatch thread.

export {
  KERB_CHECKSUM_HMAC_SHA1_96_AES128,
  KERB_CHECKSUM_HMAC_SHA1_96_AES256,
  KERB_CHECKSUM_HMAC_SHA256_128_AES128,
  KERB_CHECKSUM_HMAC_SHA384_192_AES256,
  KERB_ETYPE_AES128_CTS_HMAC_SHA1_96,
  KERB_ETYPE_AES128_CTS_HMAC_SHA256_128,
  KERB_ETYPE_AES256_CTS_HMAC_SHA1_96,
  KERB_ETYPE_AES256_CTS_HMAC_SHA384_192,
  KEY_USAGE,
  type KerbChecksumType,
  type KerbEtype,
  type KeyUsageName,
} from './numbers.js';
export { KERBEROS_CRYPTO_ERROR_CODES, KerberosCryptoError, type KerberosCryptoErrorCode } from './errors.js';
export type { UsageKeys } from './profile.js';
export { wipeKey } from './key-schedule.js';
export {
  cf2,
  checksumTypeInfo,
  decrypt,
  encrypt,
  encryptedLength,
  encryptionTypeInfo,
  isSupportedEtype,
  makeChecksum,
  makeRandomKey,
  MAX_S2K_ITERATIONS,
  prf,
  prfPlus,
  randomToKey,
  requiredChecksumType,
  s2kIterations,
  stringToKey,
  stringToKeyFromPbkdf2,
  stringToKeyPbkdf2,
  SUPPORTED_ETYPES,
  usageKeys,
  verifyChecksum,
  type ChecksumTypeInfo,
  type EncryptionKey,
  type EncryptionTypeInfo,
  type EncryptOptions,
  type StringToKeyOptions,
  type StringToKeyPbkdf2,
} from './cryptosystem.js';
