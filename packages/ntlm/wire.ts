// What tools that speak NTLM use of this package (the fuzzer, `sspi-emu decode`, the bench's
// primitives): its message formats, its cryptography and its decoder. Not part of the package's
// DLL face (index.ts exports only SpLsaModeInitialize and SpUserModeInitialize).

export { challengeFor } from './acceptor.js';
export { authenticateFor, negotiateFor } from './initiator.js';
export {
  bytesEqual,
  computeMic,
  computeNtlmV2Response,
  encryptRandomSessionKey,
  filetimeFromDate,
  hmacMd5,
  HmacMd5Key,
  kxkeyV2,
  ntlmV2Temp,
  ntowfv1,
  ntowfv2FromNtHash,
  packSecChannelBindings,
  utf16le,
} from './crypto.js';
export { describeNtlmMessage, formatNtlmMessage, type NtlmMessageDescription } from './decode.js';
export { MSV_AV, MSV_AV_FLAGS, MSV_AV_STRING_IDS, NTLMSSP_NEGOTIATE } from './flags.js';
export { NTLM_MAX_TOKEN, NTLM_VERSION, keyExchanged } from './info.js';
export {
  NtlmParseError,
  packAuthenticate,
  packAvPairs,
  packChallenge,
  micFieldOffset,
  packNegotiate,
  unpackAuthenticate,
  unpackChallenge,
  withMic,
  type AvPair,
  type NtlmVersion,
} from './messages.js';
export { randomFromPool } from './random.js';
export { Rc4 } from './rc4.js';
export { NtlmSecurityContext } from './security.js';
