// The Kerberos mechanism's per-message tokens (RFC 4121 4.2), what MakeSignature/VerifySignature and
// EncryptMessage/DecryptMessage make and read once a context is established:
//
//   MIC   04 04 | Flags | FF FF FF FF FF | SND_SEQ (8) | checksum of (message | these 16 bytes)
//   Wrap  05 04 | Flags | FF | EC (2) | RRC (2) | SND_SEQ (8) | payload
//         with confidentiality: payload = encrypt(message | EC filler bytes | the header with RRC 0),
//         without: payload = message | checksum of (message | the header with EC and RRC 0), and EC
//         then says how long the checksum is
//   Flags: 0x01 SentByAcceptor, 0x02 Sealed, 0x04 AcceptorSubkey
//
// Keys and usages: a side sends with the acceptor's subkey when the acceptor made one (AP-REP) and
// says so (AcceptorSubkey), else with the initiator's subkey (or the ticket's session key when the
// initiator sent none); it reads a token with the key its flag names, as MIT does. Usages are
// KG-USAGE-{INITIATOR,ACCEPTOR}-{SEAL,SIGN} (24, 22, 25, 23) by who sent it.
//
// Rotation (RRC): the payload is rotated right by RRC bytes, so that what follows the message (the
// encrypted header and the HMAC, or the checksum) comes first. Windows' Kerberos package makes its
// tokens so (MS-KILE 3.4.5.4.1: RRC 28 with encryption, 12 without, for the AES-SHA1 etypes) and this
// one too, RRC = 16 + the MAC's length, so that EncryptMessage encrypts the message in place: the
// SECBUFFER_TOKEN holds the header and the first RRC + 16 bytes of the rotated payload (the encrypted
// header, the HMAC, the encrypted confounder), SECBUFFER_DATA the message's ciphertext, and the two
// end to end are the RFC 4121 token MIT's gss_unwrap reads (it rotates back by RRC). EC is 0 (AES-CTS
// needs no padding). Reading, any RRC and EC is taken; MS-KILE's DCE-style tokens, which rotate by
// RRC + EC while saying RRC, are read too when the plain reading fails.

import { SEC_E_INVALID_TOKEN, SEC_E_MESSAGE_ALTERED, SEC_E_OK, SEC_E_OUT_OF_SEQUENCE, type Status } from '../../headers/index.js';
import {
  checksumTypeInfo,
  decrypt,
  encrypt,
  encryptionTypeInfo,
  KerberosCryptoError,
  KEY_USAGE,
  makeChecksum,
  requiredChecksumType,
  verifyChecksum,
  wipeKey,
  type EncryptionKey,
} from './crypto/index.js';
import { SequenceWindow } from './sequence.js';

export const TOK_ID_MIC = 0x0404;
export const TOK_ID_WRAP = 0x0504;
export const TOKEN_FLAGS = { SENT_BY_ACCEPTOR: 0x01, SEALED: 0x02, ACCEPTOR_SUBKEY: 0x04 } as const;
export const HEADER_BYTES = 16;

export type Side = 'initiator' | 'acceptor';

/** What one side of an established context signs and seals with. */
export class MessageProtection {
  readonly side: Side;
  /** The initiator's subkey (or the ticket's session key when it sent none): MIT's ctx->subkey. */
  readonly initiatorKey: EncryptionKey;
  /** The acceptor's subkey from its AP-REP, when it made one. */
  readonly acceptorKey: EncryptionKey | undefined;
  private sendSeq: bigint;
  readonly window: SequenceWindow;

  constructor(options: { side: Side; initiatorKey: EncryptionKey; acceptorKey: EncryptionKey | undefined; sendSeq: bigint; window: SequenceWindow }) {
    this.side = options.side;
    this.initiatorKey = options.initiatorKey;
    this.acceptorKey = options.acceptorKey;
    this.sendSeq = options.sendSeq;
    this.window = options.window;
  }

  /** The next number this side sends. */
  get nextSend(): bigint {
    return this.sendSeq;
  }

  /** The key this side sends with: the acceptor's subkey when there is one. */
  get sendKey(): EncryptionKey {
    return this.acceptorKey ?? this.initiatorKey;
  }

  /** The length of a MIC token: the header and the checksum of the send key's etype. */
  get micBytes(): number {
    return HEADER_BYTES + checksumTypeInfo(requiredChecksumType(this.sendKey.keytype)).bytes;
  }

  /** The length of a sealed Wrap token's header and trailer around the message: header, confounder, encrypted header, MAC. */
  get wrapOverhead(): number {
    const info = encryptionTypeInfo(this.sendKey.keytype);
    return HEADER_BYTES + info.blockBytes + HEADER_BYTES + info.macBytes;
  }

  /** RRC for a sealed token: everything after the message (encrypted header and MAC) rotated to the front. */
  private get sealedRrc(): number {
    return HEADER_BYTES + encryptionTypeInfo(this.sendKey.keytype).macBytes;
  }

  private flags(sealed: boolean): number {
    return (this.side === 'acceptor' ? TOKEN_FLAGS.SENT_BY_ACCEPTOR : 0) | (sealed ? TOKEN_FLAGS.SEALED : 0) | (this.acceptorKey !== undefined ? TOKEN_FLAGS.ACCEPTOR_SUBKEY : 0);
  }

  /** A MIC token over the message (its parts in order). Takes the next send number. */
  makeMic(message: readonly Uint8Array[]): Uint8Array {
    const header = new Uint8Array(HEADER_BYTES);
    header[0] = 0x04;
    header[1] = 0x04;
    header[2] = this.flags(false);
    header.fill(0xff, 3, 8);
    setSeq(header, this.sendSeq);
    const key = this.sendKey;
    const usage = this.side === 'initiator' ? KEY_USAGE.KG_USAGE_INITIATOR_SIGN : KEY_USAGE.KG_USAGE_ACCEPTOR_SIGN;
    const checksum = makeChecksum(requiredChecksumType(key.keytype), key, usage, concat([...message, header]));
    this.sendSeq = (this.sendSeq + 1n) & ((1n << 64n) - 1n);
    return concat([header, checksum]);
  }

  /** Checks a MIC token over the message: SEC_E_OK, SEC_E_INVALID_TOKEN, SEC_E_MESSAGE_ALTERED or SEC_E_OUT_OF_SEQUENCE. */
  verifyMic(message: readonly Uint8Array[], token: Uint8Array): Status {
    if (token.length < HEADER_BYTES || token[0] !== 0x04 || token[1] !== 0x04) return SEC_E_INVALID_TOKEN;
    for (let i = 3; i < 8; i++) if (token[i] !== 0xff) return SEC_E_INVALID_TOKEN;
    const flags = token[2]!;
    const key = this.receiveKey(flags);
    if (key === undefined) return SEC_E_INVALID_TOKEN;
    if (((flags & TOKEN_FLAGS.SENT_BY_ACCEPTOR) !== 0) === (this.side === 'acceptor')) return SEC_E_MESSAGE_ALTERED; // our own token reflected back
    const cksumtype = requiredChecksumType(key.keytype);
    const size = checksumTypeInfo(cksumtype).bytes;
    if (token.length !== HEADER_BYTES + size) return SEC_E_INVALID_TOKEN;
    const header = token.subarray(0, HEADER_BYTES);
    const usage = this.side === 'initiator' ? KEY_USAGE.KG_USAGE_ACCEPTOR_SIGN : KEY_USAGE.KG_USAGE_INITIATOR_SIGN;
    if (!verifyChecksum(cksumtype, key, usage, concat([...message, header]), token.subarray(HEADER_BYTES))) return SEC_E_MESSAGE_ALTERED;
    return this.sequenced(getSeq(token));
  }

  /**
   * A Wrap token of the message, split as EncryptMessage lays it out: `trailer` (the SECBUFFER_TOKEN:
   * the header and what the rotation put before the message) and `data` (the message, encrypted in
   * place, or as it was). Takes the next send number.
   */
  wrap(message: Uint8Array, sealed: boolean): { trailer: Uint8Array; data: Uint8Array } {
    const key = this.sendKey;
    const header = new Uint8Array(HEADER_BYTES);
    header[0] = 0x05;
    header[1] = 0x04;
    header[2] = this.flags(sealed);
    header[3] = 0xff;
    setSeq(header, this.sendSeq);
    let trailer: Uint8Array;
    let data: Uint8Array;
    if (sealed) {
      // EC 0, RRC 0 in the encrypted copy of the header (RFC 4121 4.2.4).
      const usage = this.side === 'initiator' ? KEY_USAGE.KG_USAGE_INITIATOR_SEAL : KEY_USAGE.KG_USAGE_ACCEPTOR_SEAL;
      const ciphertext = encrypt(key, usage, concat([message, header]));
      const rrc = this.sealedRrc;
      setU16(header, 6, rrc);
      const rotated = rotateRight(ciphertext, rrc);
      const front = rrc + encryptionTypeInfo(key.keytype).blockBytes;
      trailer = concat([header, rotated.subarray(0, front)]);
      data = rotated.slice(front);
    } else {
      const usage = this.side === 'initiator' ? KEY_USAGE.KG_USAGE_INITIATOR_SEAL : KEY_USAGE.KG_USAGE_ACCEPTOR_SEAL;
      const cksumtype = requiredChecksumType(key.keytype);
      const checksum = makeChecksum(cksumtype, key, usage, concat([message, header]));
      setU16(header, 4, checksum.length); // EC: the checksum's length
      setU16(header, 6, checksum.length); // RRC: the checksum rotated to the front
      trailer = concat([header, checksum]);
      data = Uint8Array.from(message);
    }
    this.sendSeq = (this.sendSeq + 1n) & ((1n << 64n) - 1n);
    return { trailer, data };
  }

  /**
   * Reads a whole Wrap token (EncryptMessage's trailer and data end to end, or an RFC 4121 token
   * from gss_wrap): the message and whether it was sealed, or the status that refuses it.
   */
  unwrap(token: Uint8Array): { status: typeof SEC_E_OK; message: Uint8Array; sealed: boolean } | { status: Status } {
    if (token.length < HEADER_BYTES || token[0] !== 0x05 || token[1] !== 0x04 || token[3] !== 0xff) return { status: SEC_E_INVALID_TOKEN };
    const flags = token[2]!;
    if ((flags & ~(TOKEN_FLAGS.SENT_BY_ACCEPTOR | TOKEN_FLAGS.SEALED | TOKEN_FLAGS.ACCEPTOR_SUBKEY)) !== 0) return { status: SEC_E_INVALID_TOKEN };
    const key = this.receiveKey(flags);
    if (key === undefined) return { status: SEC_E_INVALID_TOKEN };
    if (((flags & TOKEN_FLAGS.SENT_BY_ACCEPTOR) !== 0) === (this.side === 'acceptor')) return { status: SEC_E_MESSAGE_ALTERED };
    const ec = getU16(token, 4);
    const rrc = getU16(token, 6);
    const seq = getSeq(token);
    const body = token.subarray(HEADER_BYTES);
    const usage = this.side === 'initiator' ? KEY_USAGE.KG_USAGE_ACCEPTOR_SEAL : KEY_USAGE.KG_USAGE_INITIATOR_SEAL;
    let message: Uint8Array | undefined;
    const sealed = (flags & TOKEN_FLAGS.SEALED) !== 0;
    if (sealed) {
      const info = encryptionTypeInfo(key.keytype);
      if (body.length < info.blockBytes + HEADER_BYTES + ec + info.macBytes) return { status: SEC_E_INVALID_TOKEN };
      // The RFC's rotation, then MS-KILE's DCE-style one (RRC + EC) when that does not decrypt.
      for (const rotation of ec === 0 ? [rrc] : [rrc, rrc + ec]) {
        const plain = tryDecrypt(key, usage, rotateLeft(body, rotation));
        if (plain === undefined) continue;
        if (plain.length < HEADER_BYTES + ec) return { status: SEC_E_INVALID_TOKEN };
        const inner = plain.subarray(plain.length - HEADER_BYTES);
        // The encrypted copy of the header must be the header (its RRC aside: RFC 4121 4.2.4 sets it 0).
        for (const i of [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15]) if (inner[i] !== token[i]) return { status: SEC_E_MESSAGE_ALTERED };
        message = plain.slice(0, plain.length - HEADER_BYTES - ec);
        break;
      }
      if (message === undefined) return { status: SEC_E_MESSAGE_ALTERED };
    } else {
      const cksumtype = requiredChecksumType(key.keytype);
      const size = checksumTypeInfo(cksumtype).bytes;
      if (ec !== size || body.length < size) return { status: SEC_E_INVALID_TOKEN };
      const payload = rotateLeft(body, rrc);
      message = payload.slice(0, payload.length - size);
      const header = Uint8Array.from(token.subarray(0, HEADER_BYTES));
      setU16(header, 4, 0);
      setU16(header, 6, 0);
      if (!verifyChecksum(cksumtype, key, usage, concat([message, header]), payload.subarray(payload.length - size))) return { status: SEC_E_MESSAGE_ALTERED };
    }
    const status = this.sequenced(seq);
    return status === SEC_E_OK ? { status: SEC_E_OK, message, sealed } : { status };
  }

  /** Zeroes the keys and the keys derived from them (DeleteSecurityContext). */
  wipe(): void {
    wipeKey(this.initiatorKey);
    if (this.acceptorKey !== undefined) wipeKey(this.acceptorKey);
  }

  private receiveKey(flags: number): EncryptionKey | undefined {
    if ((flags & TOKEN_FLAGS.ACCEPTOR_SUBKEY) !== 0) return this.acceptorKey;
    return this.initiatorKey;
  }

  private sequenced(seq: bigint): Status {
    const verdict = this.window.check(seq);
    if (verdict !== 'ok') return SEC_E_OUT_OF_SEQUENCE;
    this.window.take(seq);
    return SEC_E_OK;
  }
}

function tryDecrypt(key: EncryptionKey, usage: number, ciphertext: Uint8Array): Uint8Array | undefined {
  try {
    return decrypt(key, usage, ciphertext);
  } catch (error) {
    if (error instanceof KerberosCryptoError) return undefined;
    throw error;
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The last `count` bytes (mod the length) moved to the front. */
export function rotateRight(bytes: Uint8Array, count: number): Uint8Array {
  if (bytes.length === 0) return new Uint8Array(0);
  const n = count % bytes.length;
  return concat([bytes.subarray(bytes.length - n), bytes.subarray(0, bytes.length - n)]);
}

/** The first `count` bytes (mod the length) moved to the end: what undoes rotateRight. */
export function rotateLeft(bytes: Uint8Array, count: number): Uint8Array {
  if (bytes.length === 0) return new Uint8Array(0);
  const n = count % bytes.length;
  return concat([bytes.subarray(n), bytes.subarray(0, n)]);
}

function setU16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = (value >>> 8) & 0xff;
  bytes[at + 1] = value & 0xff;
}

function getU16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function setSeq(header: Uint8Array, seq: bigint): void {
  for (let i = 0; i < 8; i++) header[8 + i] = Number((seq >> BigInt(56 - 8 * i)) & 0xffn);
}

function getSeq(token: Uint8Array): bigint {
  let seq = 0n;
  for (let i = 0; i < 8; i++) seq = (seq << 8n) | BigInt(token[8 + i]!);
  return seq;
}
