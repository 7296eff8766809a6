// What the default client and server applications say to each other over their connection:
// tokens during the handshake (the seed's "forwards it to the server"), the server's verdict,
// then sealed and signed messages. A side whose ISC/ASC fails says so, so that its peer never
// waits for a token that will not come.

import type { SecBuffer } from '../headers/sspi.js';

export type AppMessage =
  /** A security token for the peer's next InitializeSecurityContext/AcceptSecurityContext call. */
  | { kind: 'token'; token: Uint8Array }
  /** The server's AcceptSecurityContext returned SEC_E_OK; a final token for the client may come with it. */
  | { kind: 'accepted'; token?: Uint8Array }
  /** This side's ISC/ASC failed with `status`; the handshake is over. */
  | { kind: 'failed'; status: number }
  /** EncryptMessage output: the SECBUFFER_TOKEN trailer and the sealed SECBUFFER_DATA. */
  | { kind: 'sealed'; buffers: SecBuffer[] }
  /** MakeSignature output over `data`. */
  | { kind: 'signed'; data: Uint8Array; signature: Uint8Array }
  /** A message the receiver could not verify or decrypt, with the status it got. */
  | { kind: 'rejected'; status: number }
  /** The client is done with the connection. */
  | { kind: 'bye' };
