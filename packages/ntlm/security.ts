// NTLM session security: message integrity (MakeSignature/VerifySignature, MS-NLMP 3.4.2, 3.4.4)
// and confidentiality (EncryptMessage/DecryptMessage, 3.4.3), producing NTLMSSP_MESSAGE_SIGNATURE
// (2.2.2.9). GSS_WrapEx of 4.2.2.4, 4.2.3.4 and 4.2.4.4 is seal() here.
//
// Two forms:
// - With extended session security (3.4.4.2): Checksum = HMAC_MD5(SigningKey, SeqNum ‖ Message)[0..7],
//   RC4-encrypted with the sealing handle when KEY_EXCH is negotiated. Each direction has its own
//   signing key, sealing handle and sequence number.
// - Without it, NTLMv1 (3.4.4.1): RandomPad, CRC32(Message) and SeqNum are RC4-encrypted with the
//   single sealing handle both directions share (as gss-ntlmssp and Samba do), and so is the
//   sequence number.
// Each RC4 handle runs on from message to message: sealing advances it by the message length, then
// the signature consumes 8 (ESS with KEY_EXCH) or 12 (NTLMv1) more bytes.
//
// Not here: NTLMSSP_NEGOTIATE_DATAGRAM (connectionless, per-message rekeying and caller-chosen
// sequence numbers); fromSessionKey() refuses it.

import { SEC_E_INVALID_TOKEN, SEC_E_MESSAGE_ALTERED, SEC_E_OK, SEC_E_OUT_OF_SEQUENCE, SEC_E_UNSUPPORTED_FUNCTION, type Status } from '../../headers/index.js';
import { bytesEqual, HmacMd5Key, NtlmUnsupportedError, sealKey, signKey, type NtlmSide } from './crypto.js';
import { NTLMSSP_NEGOTIATE } from './flags.js';
import { NtlmParseError } from './messages.js';
import { Rc4, RC4_STATE_BYTES } from './rc4.js';

/** NTLMSSP_MESSAGE_SIGNATURE (2.2.2.9): 16 bytes, Version 1. */
export const NTLM_SIGNATURE_BYTES = 16;
const SIGNATURE_VERSION = 1;
/** With extended session security (2.2.2.9.2): Version, Checksum(8), SeqNum. */
const ESS_CHECKSUM_OFFSET = 4;
const ESS_CHECKSUM_BYTES = 8;
/** Without it (2.2.2.9.1): Version, RandomPad, Checksum(4), SeqNum. */
const V1_RANDOM_PAD_OFFSET = 4;
const V1_CHECKSUM_OFFSET = 8;
const SEQ_NUM_OFFSET = 12;
const VERSION_BYTES = 4;

/** The signature of a context that negotiated neither SIGN nor SEAL (ALWAYS_SIGN only): Version 1, zeros. */
const DUMMY_SIGNATURE = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

/** One direction's keys and position. Without extended session security both directions are one object. */
interface Direction {
  /** SIGNKEY as bytes (for exportState), and ready for HMAC (extended session security only). */
  readonly signingKey: Uint8Array;
  readonly mac: HmacMd5Key | undefined;
  readonly handle: Rc4;
  seqNum: number;
}

export interface SealResult {
  status: Status;
  sealed: Uint8Array;
  signature: Uint8Array;
}

export interface UnsealResult {
  status: Status;
  /** The plaintext, only when status is SEC_E_OK. */
  message: Uint8Array;
}

/**
 * exportState() layout. Everything in it is secret: the signing keys and RC4 states sign and
 * decrypt the rest of the session.
 */
const STATE = {
  MAGIC: 0, // "NTSC"
  FORMAT: 4, // u8
  SIDE: 5, // u8: 0 client, 1 server
  FLAGS: 8, // u32 LE
  OUTGOING_SEQ_NUM: 12,
  INCOMING_SEQ_NUM: 16,
  OUTGOING_SIGNING_KEY: 20,
  INCOMING_SIGNING_KEY: 36,
  OUTGOING_RC4: 52,
  INCOMING_RC4: 52 + RC4_STATE_BYTES,
  BYTES: 52 + 2 * RC4_STATE_BYTES,
} as const;
const STATE_MAGIC = Uint8Array.of(0x4e, 0x54, 0x53, 0x43);
const STATE_FORMAT = 1;
const SIGNING_KEY_BYTES = 16;

/** CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), the NTLMv1 checksum (3.4.4.1). */
const CRC32_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32Update(crc: number, data: Uint8Array): number {
  for (let i = 0; i < data.length; i++) crc = CRC32_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}

export function crc32(data: Uint8Array): number {
  return (crc32Update(0xffffffff, data) ^ 0xffffffff) >>> 0;
}

function other(side: NtlmSide): NtlmSide {
  return side === 'client' ? 'server' : 'client';
}

// Scratch space the message functions share (one thread, and nothing here re-enters): the HMAC,
// the signature a verify expects, the sequence number as bytes, an RC4 state to rewind to.
const scratchMac = new Uint8Array(16);
const scratchExpected = new Uint8Array(NTLM_SIGNATURE_BYTES);
const scratchSeqNum = new Uint8Array(4);
/** SeqNum and a one-part message, as the HMAC takes them: the message's slot is emptied after each use, so no caller's buffer stays reachable. */
const NO_PART = new Uint8Array(0);
const scratchParts: Uint8Array[] = [scratchSeqNum, NO_PART];
const scratchRc4 = new Uint8Array(RC4_STATE_BYTES);

function putU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value;
  bytes[at + 1] = value >>> 8;
  bytes[at + 2] = value >>> 16;
  bytes[at + 3] = value >>> 24;
}

/**
 * The signing and sealing state of one established NTLM context, on one side. Built from the
 * ExportedSessionKey once the handshake completes (3.1.5.1.2 client, 3.2.5.1.2 server), and
 * movable between threads as bytes (exportState/importState).
 *
 * The message functions take the message as its pieces (the SECBUFFER_DATA buffers, in order),
 * hashed and encrypted where they lie: the signature covers their concatenation, the RC4 stream
 * runs on from one piece to the next.
 */
export class NtlmSecurityContext {
  readonly flags: number;
  readonly side: NtlmSide;
  /** Each direction's keys, made the first time the direction is used (#out, #in). */
  #outgoing: Direction | undefined;
  #incoming: Direction | undefined;
  /**
   * Makes a direction's keys (fromSessionKey's contexts; importState's have both). Lazily, because
   * many contexts use one direction only: a SPNEGO mechListMIC is signed with one context and
   * checked with another, and a server that only verifies what clients sign never needs its
   * outgoing keys. A direction costs two MD5s, an HMAC key and an RC4 key schedule.
   */
  readonly #derive: ((which: 'outgoing' | 'incoming') => Direction) | undefined;
  /** The session key #derive makes them from: the context's own copy (the caller may wipe its array), zeroed by wipe(). */
  readonly #sessionKey: Uint8Array | undefined;
  readonly #ess: boolean;
  readonly #keyExchanged: boolean;

  private constructor(
    flags: number,
    side: NtlmSide,
    directions: { outgoing: Direction; incoming: Direction } | { sessionKey: Uint8Array; derive: (which: 'outgoing' | 'incoming') => Direction },
  ) {
    this.flags = flags >>> 0;
    this.side = side;
    if ('derive' in directions) {
      this.#derive = directions.derive;
      this.#sessionKey = directions.sessionKey;
    } else {
      this.#outgoing = directions.outgoing;
      this.#incoming = directions.incoming;
    }
    this.#ess = (this.flags & NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) !== 0;
    this.#keyExchanged = (this.flags & NTLMSSP_NEGOTIATE.KEY_EXCH) !== 0;
  }

  get #out(): Direction {
    return (this.#outgoing ??= this.#derive!('outgoing'));
  }

  get #in(): Direction {
    return (this.#incoming ??= this.#derive!('incoming'));
  }

  /**
   * The client's keys sign and seal what it sends and check what the server sends, and the other
   * way round: ClientSigningKey/ClientSealingKey = SIGNKEY/SEALKEY(..., "Client") and so on.
   */
  static fromSessionKey(args: {
    flags: number;
    exportedSessionKey: Uint8Array;
    side: NtlmSide;
    sequence?: { outgoing: number; incoming: number };
  }): NtlmSecurityContext {
    const { flags, side } = args;
    // Where the sequence numbers start: 0, or past a SPNEGO mechListMIC (mech-list-mic.ts), with fresh RC4 states either way.
    const sequence = args.sequence ?? { outgoing: 0, incoming: 0 };
    NtlmSecurityContext.checkFlags(flags);
    const sessionKey = new Uint8Array(args.exportedSessionKey);
    if ((flags & NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) === 0) {
      // One direction for both: one sequence number, which the two directions' counts share.
      let shared: Direction | undefined;
      const derive = (): Direction =>
        (shared ??= direction(new Uint8Array(SIGNING_KEY_BYTES), new Rc4(sealKey(flags, sessionKey, side)), sequence.outgoing >>> 0, false));
      return new NtlmSecurityContext(flags, side, { sessionKey, derive });
    }
    const derive = (which: 'outgoing' | 'incoming'): Direction => {
      const who = which === 'outgoing' ? side : other(side);
      return direction(signKey(sessionKey, who), new Rc4(sealKey(flags, sessionKey, who)), sequence[which] >>> 0, true);
    };
    return new NtlmSecurityContext(flags, side, { sessionKey, derive });
  }

  /** Throws NtlmUnsupportedError for negotiated flags this implementation cannot sign and seal with. */
  static checkFlags(flags: number): void {
    if ((flags & NTLMSSP_NEGOTIATE.DATAGRAM) !== 0) {
      throw new NtlmUnsupportedError('NTLMSSP_NEGOTIATE_DATAGRAM (connectionless NTLM) is not implemented');
    }
  }

  /**
   * A context another process exported (its exportState() bytes), continued here. The keys are
   * those of the session key given, which the LSA vouches for (the ContextData it kept); the
   * export contributes only where the session is: its sequence numbers and RC4 states. It must be
   * of the same session (the same flags, side and signing keys), else NtlmParseError BAD_STATE.
   * Without extended session security there are no signing keys (3.4.5.2): only the flags and the
   * side can be compared, and a foreign RC4 state would only make the next messages fail.
   */
  static resume(args: { flags: number; exportedSessionKey: Uint8Array; side: NtlmSide; state: Uint8Array }): NtlmSecurityContext {
    const fresh = NtlmSecurityContext.fromSessionKey(args);
    const resumed = NtlmSecurityContext.importState(args.state);
    const same =
      resumed.flags === fresh.flags &&
      resumed.side === fresh.side &&
      bytesEqual(resumed.#out.signingKey, fresh.#out.signingKey) &&
      bytesEqual(resumed.#in.signingKey, fresh.#in.signingKey);
    fresh.wipe();
    if (same) return resumed;
    resumed.wipe();
    throw new NtlmParseError('BAD_STATE', 0, 'NTLM exported state: not of this session (its flags, side or keys differ from the ContextData)');
  }

  get extendedSessionSecurity(): boolean {
    return this.#ess;
  }

  /** SIGN or SEAL negotiated: real signatures (otherwise the ALWAYS_SIGN dummy). */
  get integrity(): boolean {
    return (this.flags & (NTLMSSP_NEGOTIATE.SIGN | NTLMSSP_NEGOTIATE.SEAL)) !== 0;
  }

  get confidentiality(): boolean {
    return (this.flags & NTLMSSP_NEGOTIATE.SEAL) !== 0;
  }

  /**
   * The session has a sealing key: SIGN or SEAL was negotiated, so SEALKEY and its RC4 handles
   * exist (3.4.5.3 derives them from the session key and the flags alone, SEAL or not). Unsealing
   * needs no more than that; gss-ntlmssp's gss_wrap seals on such a session whatever it negotiated.
   */
  get sealingKey(): boolean {
    return this.integrity;
  }

  /** The sequence numbers the next outgoing and incoming messages will carry. */
  get sequenceNumbers(): { outgoing: number; incoming: number } {
    return { outgoing: this.#out.seqNum, incoming: this.#in.seqNum };
  }

  /** MakeSignature: the 16-byte NTLMSSP_MESSAGE_SIGNATURE over `message` (3.4.4). */
  sign(message: Uint8Array): Uint8Array {
    return this.signParts([message], new Uint8Array(NTLM_SIGNATURE_BYTES));
  }

  /** MakeSignature over the concatenation of `parts`, written into `out` (16 bytes), which it returns. */
  signParts(parts: readonly Uint8Array[], out: Uint8Array): Uint8Array {
    if (!this.integrity) {
      out.set(DUMMY_SIGNATURE);
      return out;
    }
    return this.#signature(this.#out, parts, out);
  }

  /**
   * VerifySignature: SEC_E_OK, SEC_E_OUT_OF_SEQUENCE when the sequence number is not the expected
   * one, SEC_E_MESSAGE_ALTERED when the checksum or version is wrong, SEC_E_INVALID_TOKEN when
   * the signature is not 16 bytes. The expected sequence number advances in every case but the last.
   */
  verify(message: Uint8Array, signature: Uint8Array): Status {
    return this.verifyParts([message], signature);
  }

  /** VerifySignature over the concatenation of `parts`. */
  verifyParts(parts: readonly Uint8Array[], signature: Uint8Array): Status {
    if (signature.length !== NTLM_SIGNATURE_BYTES) return SEC_E_INVALID_TOKEN;
    if (!this.integrity) return bytesEqual(signature, DUMMY_SIGNATURE) ? SEC_E_OK : SEC_E_MESSAGE_ALTERED;
    return this.#compare(this.#signature(this.#in, parts, scratchExpected), signature);
  }

  /** EncryptMessage: RC4 over the message, then the signature of the plaintext (3.4.3). */
  seal(message: Uint8Array): SealResult {
    const sealed = new Uint8Array(message);
    const signature = new Uint8Array(NTLM_SIGNATURE_BYTES);
    const status = this.sealParts([sealed], signature);
    return status === SEC_E_OK ? { status, sealed, signature } : { status, sealed: new Uint8Array(0), signature: new Uint8Array(0) };
  }

  /**
   * EncryptMessage in place: the signature of the plaintext `parts` into `signature` (16 bytes),
   * then RC4 over the parts where they lie; the handle then encrypts the checksum, as seal() does.
   */
  sealParts(parts: readonly Uint8Array[], signature: Uint8Array): Status {
    if (!this.confidentiality) return SEC_E_UNSUPPORTED_FUNCTION;
    const direction = this.#out;
    // The checksum is of the plaintext, but its RC4 comes after the message's in the stream.
    const checksum = this.#checksum(direction, parts);
    for (const part of parts) direction.handle.processInPlace(part);
    this.#finishSignature(direction, checksum, signature);
    return SEC_E_OK;
  }

  /** DecryptMessage: RC4 over the sealed bytes, then the signature check of the plaintext. */
  unseal(sealed: Uint8Array, signature: Uint8Array): UnsealResult {
    if (!this.sealingKey) return { status: SEC_E_UNSUPPORTED_FUNCTION, message: new Uint8Array(0) };
    const message = new Uint8Array(sealed);
    const status = this.unsealParts([message], signature);
    return { status, message: status === SEC_E_OK ? message : new Uint8Array(0) };
  }

  /**
   * DecryptMessage in place: the parts are decrypted where they lie and kept so only when the
   * signature verifies; otherwise they are encrypted back (the handle rewound to before them and
   * run over them again), so they hold the ciphertext they came with. Either way the handle and
   * the sequence number end where a successful unseal leaves them.
   *
   * It needs the sealing key, not SEAL: what the peer sealed on a session that negotiated only SIGN
   * (as gss-ntlmssp's gss_wrap does) unseals as gss-ntlmssp's gss_unwrap would. Sealing (sealParts)
   * still needs SEAL: what this side sends stays within what was negotiated.
   */
  unsealParts(parts: readonly Uint8Array[], signature: Uint8Array): Status {
    if (!this.sealingKey) return SEC_E_UNSUPPORTED_FUNCTION;
    if (signature.length !== NTLM_SIGNATURE_BYTES) return SEC_E_INVALID_TOKEN;
    const direction = this.#in;
    const handle = direction.handle;
    handle.snapshot(scratchRc4);
    for (const part of parts) handle.processInPlace(part);
    const status = this.#compare(this.#signature(direction, parts, scratchExpected), signature);
    if (status !== SEC_E_OK) {
      const after = handle.snapshot(new Uint8Array(RC4_STATE_BYTES));
      handle.rewind(scratchRc4);
      for (const part of parts) handle.processInPlace(part);
      handle.rewind(after);
      after.fill(0);
    }
    scratchRc4.fill(0);
    return status;
  }

  /** The signature `direction` gives the concatenation of `parts` now, into `out`; advances its handle and sequence number. */
  #signature(direction: Direction, parts: readonly Uint8Array[], out: Uint8Array): Uint8Array {
    return this.#finishSignature(direction, this.#checksum(direction, parts), out);
  }

  /**
   * The unencrypted checksum of `parts` under `direction`'s current sequence number: with extended
   * session security HMAC_MD5(SigningKey, SeqNum ‖ Message) in scratchMac (its first 8 bytes
   * count); without it CRC32(Message).
   */
  #checksum(direction: Direction, parts: readonly Uint8Array[]): number {
    if (direction.mac === undefined) {
      let crc = 0xffffffff;
      for (const part of parts) crc = crc32Update(crc, part);
      return (crc ^ 0xffffffff) >>> 0;
    }
    putU32(scratchSeqNum, 0, direction.seqNum);
    if (parts.length !== 1) {
      direction.mac.macInto(scratchMac, 0, [scratchSeqNum, ...parts]);
      return 0;
    }
    scratchParts[1] = parts[0]!;
    try {
      direction.mac.macInto(scratchMac, 0, scratchParts);
    } finally {
      scratchParts[1] = NO_PART;
    }
    return 0;
  }

  /** Writes the signature around the checksum (3.4.4.1 or 3.4.4.2), running the handle over what it encrypts. */
  #finishSignature(direction: Direction, crc: number, out: Uint8Array): Uint8Array {
    const seqNum = direction.seqNum;
    putU32(out, 0, SIGNATURE_VERSION);
    if (direction.mac !== undefined) {
      // 3.4.4.2: Checksum = HMAC[0..7], RC4-encrypted with KEY_EXCH.
      for (let i = 0; i < ESS_CHECKSUM_BYTES; i++) out[ESS_CHECKSUM_OFFSET + i] = scratchMac[i]!;
      if (this.#keyExchanged) direction.handle.processInPlace(out, ESS_CHECKSUM_OFFSET, ESS_CHECKSUM_OFFSET + ESS_CHECKSUM_BYTES);
      putU32(out, SEQ_NUM_OFFSET, seqNum);
    } else {
      // 3.4.4.1: RC4 over RandomPad (0), CRC32(Message), SeqNum; RandomPad is then set to 0.
      putU32(out, V1_RANDOM_PAD_OFFSET, 0);
      putU32(out, V1_CHECKSUM_OFFSET, crc);
      putU32(out, SEQ_NUM_OFFSET, seqNum);
      direction.handle.processInPlace(out, V1_RANDOM_PAD_OFFSET, NTLM_SIGNATURE_BYTES);
      putU32(out, V1_RANDOM_PAD_OFFSET, 0);
    }
    direction.seqNum = (seqNum + 1) >>> 0;
    return out;
  }

  #compare(expected: Uint8Array, received: Uint8Array): Status {
    const checksumAt = this.#ess ? ESS_CHECKSUM_OFFSET : V1_CHECKSUM_OFFSET;
    if (!sameBytes(received, expected, 0, VERSION_BYTES)) return SEC_E_MESSAGE_ALTERED;
    if (!sameBytes(received, expected, SEQ_NUM_OFFSET, NTLM_SIGNATURE_BYTES)) return SEC_E_OUT_OF_SEQUENCE;
    if (!sameBytes(received, expected, checksumAt, SEQ_NUM_OFFSET)) return SEC_E_MESSAGE_ALTERED;
    return SEC_E_OK;
  }

  /** Zeroes the keys and RC4 states made so far and the session key the others would come from; the context is unusable afterwards. */
  wipe(): void {
    this.#sessionKey?.fill(0);
    for (const d of [this.#outgoing, this.#incoming]) {
      if (d === undefined) continue;
      d.signingKey.fill(0);
      d.mac?.wipe();
      d.handle.wipe();
    }
  }

  /** The whole state as bytes, to rebuild this context in another thread with importState(). */
  exportState(): Uint8Array {
    const bytes = new Uint8Array(STATE.BYTES);
    const view = new DataView(bytes.buffer);
    bytes.set(STATE_MAGIC, STATE.MAGIC);
    bytes[STATE.FORMAT] = STATE_FORMAT;
    bytes[STATE.SIDE] = this.side === 'client' ? 0 : 1;
    view.setUint32(STATE.FLAGS, this.flags, true);
    const outgoing = this.#out;
    const incoming = this.#in;
    view.setUint32(STATE.OUTGOING_SEQ_NUM, outgoing.seqNum, true);
    view.setUint32(STATE.INCOMING_SEQ_NUM, incoming.seqNum, true);
    bytes.set(outgoing.signingKey, STATE.OUTGOING_SIGNING_KEY);
    bytes.set(incoming.signingKey, STATE.INCOMING_SIGNING_KEY);
    bytes.set(outgoing.handle.exportState(), STATE.OUTGOING_RC4);
    bytes.set(incoming.handle.exportState(), STATE.INCOMING_RC4);
    return bytes;
  }

  /** Rebuilds a context from exportState() bytes; NtlmParseError BAD_STATE when they are not such. */
  static importState(bytes: Uint8Array): NtlmSecurityContext {
    const bad = (offset: number, why: string): NtlmParseError => new NtlmParseError('BAD_STATE', offset, `NTLM security context state: ${why}`);
    if (bytes.length !== STATE.BYTES) throw bad(Math.min(bytes.length, STATE.BYTES), `is ${bytes.length} bytes, expected ${STATE.BYTES}`);
    if (!bytesEqual(bytes.subarray(STATE.MAGIC, STATE.MAGIC + 4), STATE_MAGIC)) throw bad(STATE.MAGIC, 'bad magic');
    if (bytes[STATE.FORMAT] !== STATE_FORMAT) throw bad(STATE.FORMAT, `unknown format ${bytes[STATE.FORMAT]}`);
    const sideByte = bytes[STATE.SIDE];
    if (sideByte !== 0 && sideByte !== 1) throw bad(STATE.SIDE, `unknown side ${sideByte}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const flags = view.getUint32(STATE.FLAGS, true);
    if ((flags & NTLMSSP_NEGOTIATE.DATAGRAM) !== 0) throw bad(STATE.FLAGS, 'DATAGRAM is not supported');

    const rc4At = (at: number): Rc4 => {
      try {
        return Rc4.importState(bytes.subarray(at, at + RC4_STATE_BYTES));
      } catch (cause) {
        throw bad(at, cause instanceof Error ? cause.message : String(cause));
      }
    };
    const ess = (flags & NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) !== 0;
    const at = (seqAt: number, keyAt: number, rc4Offset: number): Direction =>
      direction(bytes.slice(keyAt, keyAt + SIGNING_KEY_BYTES), rc4At(rc4Offset), view.getUint32(seqAt, true), ess);
    const side: NtlmSide = sideByte === 0 ? 'client' : 'server';
    const outgoing = at(STATE.OUTGOING_SEQ_NUM, STATE.OUTGOING_SIGNING_KEY, STATE.OUTGOING_RC4);
    const incoming = ess ? at(STATE.INCOMING_SEQ_NUM, STATE.INCOMING_SIGNING_KEY, STATE.INCOMING_RC4) : outgoing;
    return new NtlmSecurityContext(flags, side, { outgoing, incoming });
  }
}

function direction(signingKey: Uint8Array, handle: Rc4, seqNum: number, ess: boolean): Direction {
  return { signingKey, mac: ess ? new HmacMd5Key(signingKey) : undefined, handle, seqNum };
}

/** a[from..to) equals b[from..to), every byte read. */
function sameBytes(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  let difference = 0;
  for (let i = from; i < to; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}
