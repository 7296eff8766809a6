// What tools that speak NTLM use of this package (the fuzzer, `sspi-emu decode`, the bench's
// primitives and its HTTP load generator): its message formats, its cryptography, its decoder and
// the protocol's legs as functions over bytes (no LSA in them). Not part of the package's
// DLL face (index.ts exports only SpLsaModeInitialize and SpUserModeInitialize).

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
export { challengeFor, type ServerNames } from './acceptor.js';
export { describeNtlmMessage, formatNtlmMessage, type NtlmMessageDescription } from './decode.js';
export { MSV_AV, MSV_AV_FLAGS, MSV_AV_STRING_IDS, NTLMSSP_NEGOTIATE } from './flags.js';
export { authenticateFor, negotiateFor, type ClientIdentity, type NegotiateState } from './initiator.js';
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
