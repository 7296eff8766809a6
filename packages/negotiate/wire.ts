// What tools that speak SPNEGO use of this package (the fuzzer, `sspi-emu decode`, tests): its
// token formats over the strict DER codec, its mechanism table and its decoder. Not part of the
// package's DLL face (index.ts exports only SpLsaModeInitialize and SpUserModeInitialize).

export { DerError, readTlv, type DerErrorCode, type Tlv } from '../kit/index.js';
export { describeNegotiationToken, formatNegotiationToken, isSpnegoToken, type InnerDescriber, type NegotiationTokenDescription } from './decode.js';
export { NEGOTIATE_MAX_TOKEN } from './info.js';
export { MECHANISMS, mechanismOf, type Mechanism } from './mechanisms.js';
export {
  MAX_MECH_TYPE_BYTES,
  MAX_MECH_TYPES,
  MECH_NAMES,
  MECH_OID,
  NEG_STATE,
  NEG_STATE_NAMES,
  packBareNegTokenInit,
  packInitialContextToken,
  packMechTypeList,
  packNegTokenInit,
  packNegTokenResp,
  unpackInitialContextToken,
  unpackNegotiationToken,
  WINDOWS_HINT_NAME,
  type NegHints,
  type NegState,
  type NegTokenInit,
  type NegTokenResp,
  type NegotiationToken,
} from './spnego.js';
