// What the default client and server applications say to each other over their connection:
// tokens during the handshake (the seed's "forwards it to the server"), the server's verdict,
// then sealed and signed messages. A side whose ISC/ASC fails says so, so that its peer never
// waits for a token that will not come.

import type { SecBuffer } from '../headers/index.js';
import { type Connection, TransportError } from '../ipc/index.js';

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

/** How long the default apps wait for their peer's next message (a peer that never sends must not hold a connection for good). */
export const DEFAULT_RECEIVE_TIMEOUT_MS = 30_000;

/**
 * The peer's next message, within `timeoutMs`, decoded: the peer is another process, whose code
 * may send anything. Rejects with TransportError TIMEOUT, PEER_GONE or BAD_MESSAGE.
 */
export async function receiveAppMessage(conn: Connection<AppMessage>, timeoutMs: number): Promise<AppMessage> {
  // The type parameter is what the peer is supposed to send; what it did send is checked here.
  const message: unknown = await conn.receive(timeoutMs);
  const decoded = decodeAppMessage(message);
  if (decoded === undefined) throw new TransportError('BAD_MESSAGE', `${conn.name}: the peer sent something that is not an application message`);
  return decoded;
}

function decodeAppMessage(value: unknown): AppMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  const bytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
  const status = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  const buffers = (v: unknown): v is SecBuffer[] =>
    Array.isArray(v) &&
    v.length <= 16 &&
    v.every((b) => typeof b === 'object' && b !== null && status((b as SecBuffer).BufferType) && bytes((b as SecBuffer).pvBuffer));
  switch (m.kind) {
    case 'token':
      return bytes(m.token) ? { kind: 'token', token: m.token } : undefined;
    case 'accepted':
      return m.token === undefined ? { kind: 'accepted' } : bytes(m.token) ? { kind: 'accepted', token: m.token } : undefined;
    case 'failed':
    case 'rejected':
      return status(m.status) ? { kind: m.kind, status: m.status >>> 0 } : undefined;
    case 'sealed':
      return buffers(m.buffers) ? { kind: 'sealed', buffers: m.buffers } : undefined;
    case 'signed':
      return bytes(m.data) && bytes(m.signature) ? { kind: 'signed', data: m.data, signature: m.signature } : undefined;
    case 'bye':
      return { kind: 'bye' };
    default:
      return undefined;
  }
}
