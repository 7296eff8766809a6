// The example package's wire formats and keys: what both halves share, and what tools that speak
// the protocol (the fuzzer, the property tests, the secrets test) import instead of rewriting.
//
// All MACs are HMAC-SHA256. K = PBKDF2-SHA256(password, "sspi-emu/" + lower-case package name +
// ":" + lower-case user, 4096) ("sspi-emu/example:alice"), derived inside the LSA only. Every token starts with a 6-byte header: magic "EXv1" (4),
// message type (1), flags (1).
//
//   ClientHello  header | Nc (32) | P1 (32) | userLen (2) | user | domainLen (2) | domain
//                P1 = MAC(K, "hello" | Nc | user | "\" | domain)
//   ServerProof  header | Ns (32) | SP (32)       SP = MAC(K, "server" | Nc | Ns)
//   ClientProof  header | CP (32)                 CP = MAC(K, "client" | Nc | Ns)
//
// Both sides derive SK = MAC(K, "session" | Nc | Ns) and export it as ContextData:
// role (1) | flags (4) | SK (32) | nameLen (2) | name ("DOMAIN\user").
//
// Messages: per direction a signing key MAC(SK, label | " sign") and a sealing key
// MAC(SK, label | " seal"), label "client-to-server" or "server-to-client".
//
// Exported state (SpExportSecurityContext): format 1 (1) | send seq (4) | receive seq (4). The
// keys are not in it: the importer derives them from the ContextData the LSA kept.

import { createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

/**
 * The package's name: its SecPkgInfo Name (info.ts), and the label in K's salt, so that two
 * packages made from this template derive different keys from the same password. The one line
 * `sspi-emu new-package` rewrites.
 */
export const PACKAGE_NAME = 'Example';

export const MAGIC = 0x31765845; // "EXv1" little-endian
export const HEADER_BYTES = 6;
export const NONCE_BYTES = 32;
export const KEY_BYTES = 32;
export const MAX_NAME_BYTES = 256;
/** cbMaxToken: no token is longer. */
export const MAX_TOKEN_BYTES = 512;
export const PBKDF2_ITERATIONS = 4096;
/** Signature: version 1 (4) | seq (4) | MAC(sign key, seq | data) truncated to 16. */
export const SIGNATURE_BYTES = 24;
/** Seal trailer: version 1 (4) | seq (4) | GCM tag (16). */
export const TRAILER_BYTES = 24;

export const MESSAGE_TYPE = { ClientHello: 1, ServerProof: 2, ClientProof: 3 } as const;
export type MessageType = (typeof MESSAGE_TYPE)[keyof typeof MESSAGE_TYPE];

/** ClientHello flags: what the client asked to protect messages with. */
export const HELLO_FLAGS = { WANTS_CONFIDENTIALITY: 0x1, WANTS_INTEGRITY: 0x2 } as const;

/** ContextData's first byte: which side the context is. */
export const ROLE = { Client: 1, Server: 2 } as const;
export type Role = (typeof ROLE)[keyof typeof ROLE];

export interface ClientHello {
  flags: number;
  nc: Uint8Array;
  p1: Uint8Array;
  /** UTF-8, as it travels. */
  user: Uint8Array;
  domain: Uint8Array;
}

export function mac(key: Uint8Array, ...parts: Array<Uint8Array | string>): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Compares two MACs in constant time. */
export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** K's PBKDF2 salt: the package's name and the user's, case-insensitive ("sspi-emu/example:alice"). */
export const secretSalt = (user: string): string => `sspi-emu/${PACKAGE_NAME.toLowerCase()}:${user.toLowerCase()}`;

/** K: the long-term secret both sides derive from the password (the LSA derives it on its work pool; lsa.ts). */
export function deriveSecret(user: string, password: string): Buffer {
  return pbkdf2Sync(password, secretSalt(user), PBKDF2_ITERATIONS, KEY_BYTES, 'sha256');
}

export const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/** P1 of a ClientHello: proves K without revealing it. */
export function helloProof(secret: Uint8Array, nc: Uint8Array, user: string, domain: string): Buffer {
  return mac(secret, 'hello', nc, user, '\\', domain);
}

export function serverProof(secret: Uint8Array, nc: Uint8Array, ns: Uint8Array): Buffer {
  return mac(secret, 'server', nc, ns);
}

export function clientProof(secret: Uint8Array, nc: Uint8Array, ns: Uint8Array): Buffer {
  return mac(secret, 'client', nc, ns);
}

export function sessionKey(secret: Uint8Array, nc: Uint8Array, ns: Uint8Array): Buffer {
  return mac(secret, 'session', nc, ns);
}

function header(type: MessageType, flags: number): Buffer {
  const out = Buffer.alloc(HEADER_BYTES);
  out.writeUInt32LE(MAGIC, 0);
  out[4] = type;
  out[5] = flags;
  return out;
}

const u16 = (n: number): Buffer => {
  const out = Buffer.alloc(2);
  out.writeUInt16LE(n, 0);
  return out;
};

export function packClientHello(hello: ClientHello): Uint8Array {
  return Buffer.concat([
    header(MESSAGE_TYPE.ClientHello, hello.flags),
    hello.nc,
    hello.p1,
    u16(hello.user.length),
    hello.user,
    u16(hello.domain.length),
    hello.domain,
  ]);
}

/** ServerProof (Ns, SP) or ClientProof (CP): the header, then the parts. */
export function packProof(type: typeof MESSAGE_TYPE.ServerProof | typeof MESSAGE_TYPE.ClientProof, ...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat([header(type, 0), ...parts]);
}

/** A bounds-checked cursor over a token of one type: every read checks the length first. */
function reader(token: Uint8Array, type: MessageType) {
  if (token.byteLength < HEADER_BYTES || token.byteLength > MAX_TOKEN_BYTES) return undefined;
  const view = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
  if (view.readUInt32LE(0) !== MAGIC || view[4] !== type) return undefined;
  let o = HEADER_BYTES;
  return {
    flags: view[5]!,
    bytes(n: number): Uint8Array | undefined {
      if (o + n > view.length) return undefined;
      const out = new Uint8Array(view.subarray(o, o + n));
      o += n;
      return out;
    },
    string(): Uint8Array | undefined {
      if (o + 2 > view.length) return undefined;
      const n = view.readUInt16LE(o);
      if (n > MAX_NAME_BYTES || o + 2 + n > view.length) return undefined;
      const s = new Uint8Array(view.subarray(o + 2, o + 2 + n));
      o += 2 + n;
      return s;
    },
    atEnd: () => o === view.length,
  };
}

/** A ClientHello, or undefined when the token is not one (wrong header, lengths, trailing bytes, no user). */
export function unpackClientHello(token: Uint8Array): ClientHello | undefined {
  const r = reader(token, MESSAGE_TYPE.ClientHello);
  if (r === undefined) return undefined;
  const nc = r.bytes(NONCE_BYTES);
  const p1 = r.bytes(KEY_BYTES);
  const user = r.string();
  const domain = r.string();
  if (nc === undefined || p1 === undefined || user === undefined || domain === undefined || user.length === 0 || !r.atEnd()) return undefined;
  return { flags: r.flags, nc, p1, user, domain };
}

export function unpackServerProof(token: Uint8Array): { ns: Uint8Array; sp: Uint8Array } | undefined {
  const r = reader(token, MESSAGE_TYPE.ServerProof);
  const ns = r?.bytes(NONCE_BYTES);
  const sp = r?.bytes(KEY_BYTES);
  return r !== undefined && ns !== undefined && sp !== undefined && r.atEnd() ? { ns, sp } : undefined;
}

export function unpackClientProof(token: Uint8Array): Uint8Array | undefined {
  const r = reader(token, MESSAGE_TYPE.ClientProof);
  const cp = r?.bytes(KEY_BYTES);
  return r !== undefined && cp !== undefined && r.atEnd() ? cp : undefined;
}

export interface ContextData {
  role: Role;
  /** The context's attributes (ISC_RET_* or ASC_RET_*). */
  flags: number;
  sessionKey: Uint8Array;
  /** "DOMAIN\user" of the authenticated client. */
  name: string;
}

export function packContextData(data: ContextData): Uint8Array {
  const name = Buffer.from(data.name, 'utf8');
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE(data.flags >>> 0, 0);
  return Buffer.concat([Uint8Array.of(data.role), flags, data.sessionKey, u16(name.length), name]);
}

export function unpackContextData(packed: Uint8Array): ContextData | undefined {
  if (packed.byteLength < 7 + KEY_BYTES) return undefined;
  const data = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const role = data[0];
  if (role !== ROLE.Client && role !== ROLE.Server) return undefined;
  const nameLength = data.readUInt16LE(5 + KEY_BYTES);
  if (7 + KEY_BYTES + nameLength !== data.length) return undefined;
  return { role, flags: data.readUInt32LE(1), sessionKey: new Uint8Array(data.subarray(5, 5 + KEY_BYTES)), name: data.toString('utf8', 7 + KEY_BYTES) };
}

/** Where a context's two directions are: what an export hands over. */
export interface ExportedState {
  sendSeq: number;
  receiveSeq: number;
}

const EXPORTED_FORMAT = 1;
const EXPORTED_BYTES = 9;

export function packExportedState(state: ExportedState): Uint8Array {
  const out = Buffer.alloc(EXPORTED_BYTES);
  out[0] = EXPORTED_FORMAT;
  out.writeUInt32LE(state.sendSeq >>> 0, 1);
  out.writeUInt32LE(state.receiveSeq >>> 0, 5);
  return new Uint8Array(out);
}

export function unpackExportedState(packed: Uint8Array): ExportedState | undefined {
  if (packed.byteLength !== EXPORTED_BYTES || packed[0] !== EXPORTED_FORMAT) return undefined;
  const data = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  return { sendSeq: data.readUInt32LE(1), receiveSeq: data.readUInt32LE(5) };
}

export type DirectionLabel = 'client-to-server' | 'server-to-client';

/** The signing and sealing keys of one direction. */
export function directionKeys(sk: Uint8Array, label: DirectionLabel): { signKey: Buffer; sealKey: Buffer } {
  return { signKey: mac(sk, label, ' sign'), sealKey: mac(sk, label, ' seal') };
}
