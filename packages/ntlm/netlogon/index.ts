// Netlogon's secure channel (MS-NRPC), the part NTLM pass-through authentication needs: a member's
// client, a domain controller's server, the AES session key and credentials, the sealed calls. The
// LSA hosts both sides (lsa/netlogon-host.ts), as lsass hosts netlogon.dll; nothing here knows of
// the LSA, and the NTLM package reaches it only through the LSA function CallPackagePassthrough.

export {
  acceptableClientChallenge,
  computeCredential,
  computeSessionKey,
  sealMessage,
  sequenceBytes,
  sharedSecretOf,
  unsealMessage,
  SIGNATURE_BYTES,
  type NetlogonSide,
  type Unsealed,
} from './crypto.js';
export { NetlogonWireError, type NetlogonWireErrorCode } from './fields.js';
export {
  frame,
  MAX_FRAME_BYTES,
  NETLOGON_CLIENT_FLAGS,
  NETLOGON_LOGON_INFO_CLASS,
  NETLOGON_NEG,
  NETLOGON_OPNUM,
  NETLOGON_SECURE_CHANNEL_TYPE,
  NETLOGON_VALIDATION_INFO_CLASS,
  packBody,
  packSealed,
  takeFrames,
  unpackBody,
  unpackFrame,
  type NetlogonBody,
  type NetlogonFrame,
  type NetlogonReply,
  type NetlogonRequest,
} from './messages.js';
export { NetlogonClient, type NetlogonClientOptions, type NetlogonClientStatus, type SamLogonOutcome } from './client.js';
export {
  DEFAULT_NETLOGON_SERVER_LIMITS,
  NetlogonServer,
  type MachineAccount,
  type NetlogonServerLimits,
  type NetlogonServerOptions,
  type NetlogonServerRecord,
  type NetlogonServerStats,
  type SamLogonAnswer,
  type SecureChannelPeer,
} from './server.js';
export { netlogonStatusName, STATUS_NO_TRUST_SAM_ACCOUNT, STATUS_TRUSTED_RELATIONSHIP_FAILURE } from './statuses.js';
