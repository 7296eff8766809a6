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
import { bytesEqual, hmacMd5, NtlmUnsupportedError, sealKey, signKey, type NtlmSide } from './crypto.js';
import { NTLMSSP_NEGOTIATE } from './flags.js';
import { NtlmParseError } from './messages.js';
import { Rc4, RC4_STATE_BYTES } from './rc4.js';

/** NTLMSSP_MESSAGE_SIGNATURE (2.2.2.9): 16 bytes, Version 1. */
export const NTLM_SIGNATURE_BYTES = 16;
const SIGNATURE_VERSION = 1;
const SIGNATURE_VERSION_OFFSET = 0;
/** With extended session security (2.2.2.9.2): Version, Checksum(8), SeqNum. */
const ESS_CHECKSUM_OFFSET = 4;
const ESS_CHECKSUM_BYTES = 8;
/** Without it (2.2.2.9.1): Version, RandomPad, Checksum(4), SeqNum. */
const V1_CHECKSUM_OFFSET = 8;
const V1_ENCRYPTED_BYTES = 12; // RandomPad, Checksum, SeqNum: what RC4 runs over
const SEQ_NUM_OFFSET = 12;

/** The signature of a context that negotiated neither SIGN nor SEAL (ALWAYS_SIGN only): Version 1, zeros. */
const DUMMY_SIGNATURE = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

/** One direction's keys and position. Without extended session security both directions are one object. */
interface Direction {
  readonly signingKey: Uint8Array;
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

export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of data) crc = CRC32_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function other(side: NtlmSide): NtlmSide {
  return side === 'client' ? 'server' : 'client';
}

/**
 * The signing and sealing state of one established NTLM context, on one side. Built from the
 * ExportedSessionKey once the handshake completes (3.1.5.1.2 client, 3.2.5.1.2 server), and
 * movable between threads as bytes (exportState/importState).
 */
export class NtlmSecurityContext {
  readonly flags: number;
  readonly side: NtlmSide;
  readonly #outgoing: Direction;
  readonly #incoming: Direction;

  private constructor(flags: number, side: NtlmSide, outgoing: Direction, incoming: Direction) {
    this.flags = flags >>> 0;
    this.side = side;
    this.#outgoing = outgoing;
    this.#incoming = incoming;
  }

  /**
   * The client's keys sign and seal what it sends and check what the server sends, and the other
   * way round: ClientSigningKey/ClientSealingKey = SIGNKEY/SEALKEY(..., "Client") and so on.
   */
  static fromSessionKey(args: { flags: number; exportedSessionKey: Uint8Array; side: NtlmSide }): NtlmSecurityContext {
    const { flags, exportedSessionKey, side } = args;
    if ((flags & NTLMSSP_NEGOTIATE.DATAGRAM) !== 0) {
      throw new NtlmUnsupportedError('NTLMSSP_NEGOTIATE_DATAGRAM (connectionless NTLM) is not implemented');
    }
    if ((flags & NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) === 0) {
      const shared: Direction = {
        signingKey: new Uint8Array(SIGNING_KEY_BYTES),
        handle: new Rc4(sealKey(flags, exportedSessionKey, side)),
        seqNum: 0,
      };
      return new NtlmSecurityContext(flags, side, shared, shared);
    }
    const direction = (of: NtlmSide): Direction => ({
      signingKey: signKey(exportedSessionKey, of),
      handle: new Rc4(sealKey(flags, exportedSessionKey, of)),
      seqNum: 0,
    });
    return new NtlmSecurityContext(flags, side, direction(side), direction(other(side)));
  }

  get extendedSessionSecurity(): boolean {
    return (this.flags & NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) !== 0;
  }

  /** SIGN or SEAL negotiated: real signatures (otherwise the ALWAYS_SIGN dummy). */
  get integrity(): boolean {
    return (this.flags & (NTLMSSP_NEGOTIATE.SIGN | NTLMSSP_NEGOTIATE.SEAL)) !== 0;
  }

  get confidentiality(): boolean {
    return (this.flags & NTLMSSP_NEGOTIATE.SEAL) !== 0;
  }

  /** The sequence numbers the next outgoing and incoming messages will carry. */
  get sequenceNumbers(): { outgoing: number; incoming: number } {
    return { outgoing: this.#outgoing.seqNum, incoming: this.#incoming.seqNum };
  }

  /** MakeSignature: the 16-byte NTLMSSP_MESSAGE_SIGNATURE over `message` (3.4.4). */
  sign(message: Uint8Array): Uint8Array {
    if (!this.integrity) return Uint8Array.from(DUMMY_SIGNATURE);
    return this.#signature(this.#outgoing, message);
  }

  /**
   * VerifySignature: SEC_E_OK, SEC_E_OUT_OF_SEQUENCE when the sequence number is not the expected
   * one, SEC_E_MESSAGE_ALTERED when the checksum or version is wrong, SEC_E_INVALID_TOKEN when
   * the signature is not 16 bytes. The expected sequence number advances in every case but the last.
   */
  verify(message: Uint8Array, signature: Uint8Array): Status {
    if (signature.length !== NTLM_SIGNATURE_BYTES) return SEC_E_INVALID_TOKEN;
    if (!this.integrity) return bytesEqual(signature, DUMMY_SIGNATURE) ? SEC_E_OK : SEC_E_MESSAGE_ALTERED;
    return this.#compare(this.#signature(this.#incoming, message), signature);
  }

  /** EncryptMessage: RC4 over the message, then the signature of the plaintext (3.4.3). */
  seal(message: Uint8Array): SealResult {
    if (!this.confidentiality) {
      return { status: SEC_E_UNSUPPORTED_FUNCTION, sealed: new Uint8Array(0), signature: new Uint8Array(0) };
    }
    const sealed = this.#outgoing.handle.process(message);
    const signature = this.#signature(this.#outgoing, message);
    return { status: SEC_E_OK, sealed, signature };
  }

  /** DecryptMessage: RC4 over the sealed bytes, then the signature check of the plaintext. */
  unseal(sealed: Uint8Array, signature: Uint8Array): UnsealResult {
    if (!this.confidentiality) return { status: SEC_E_UNSUPPORTED_FUNCTION, message: new Uint8Array(0) };
    if (signature.length !== NTLM_SIGNATURE_BYTES) return { status: SEC_E_INVALID_TOKEN, message: new Uint8Array(0) };
    const message = this.#incoming.handle.process(sealed);
    const status = this.#compare(this.#signature(this.#incoming, message), signature);
    return { status, message: status === SEC_E_OK ? message : new Uint8Array(0) };
  }

  /** The signature `direction` gives `message` now; advances its handle and sequence number. */
  #signature(direction: Direction, message: Uint8Array): Uint8Array {
    const signature = new Uint8Array(NTLM_SIGNATURE_BYTES);
    const view = new DataView(signature.buffer);
    view.setUint32(SIGNATURE_VERSION_OFFSET, SIGNATURE_VERSION, true);
    const seqNum = new Uint8Array(4);
    new DataView(seqNum.buffer).setUint32(0, direction.seqNum, true);

    if (this.extendedSessionSecurity) {
      // 3.4.4.2
      const checksum = hmacMd5(direction.signingKey, seqNum, message).subarray(0, ESS_CHECKSUM_BYTES);
      if ((this.flags & NTLMSSP_NEGOTIATE.KEY_EXCH) !== 0) direction.handle.processInPlace(checksum);
      signature.set(checksum, ESS_CHECKSUM_OFFSET);
      signature.set(seqNum, SEQ_NUM_OFFSET);
    } else {
      // 3.4.4.1: RC4 over RandomPad (0), CRC32(Message), SeqNum; RandomPad is then set to 0.
      const encrypted = new Uint8Array(V1_ENCRYPTED_BYTES);
      const fields = new DataView(encrypted.buffer);
      fields.setUint32(4, crc32(message), true);
      fields.setUint32(8, direction.seqNum, true);
      direction.handle.processInPlace(encrypted);
      signature.set(encrypted.subarray(4), V1_CHECKSUM_OFFSET);
    }
    direction.seqNum = (direction.seqNum + 1) >>> 0;
    return signature;
  }

  #compare(expected: Uint8Array, received: Uint8Array): Status {
    const checksumAt = this.extendedSessionSecurity ? ESS_CHECKSUM_OFFSET : V1_CHECKSUM_OFFSET;
    if (!bytesEqual(received.subarray(0, 4), expected.subarray(0, 4))) return SEC_E_MESSAGE_ALTERED;
    if (!bytesEqual(received.subarray(SEQ_NUM_OFFSET), expected.subarray(SEQ_NUM_OFFSET))) return SEC_E_OUT_OF_SEQUENCE;
    if (!bytesEqual(received.subarray(checksumAt, SEQ_NUM_OFFSET), expected.subarray(checksumAt, SEQ_NUM_OFFSET))) {
      return SEC_E_MESSAGE_ALTERED;
    }
    return SEC_E_OK;
  }

  /** The whole state as bytes, to rebuild this context in another thread with importState(). */
  exportState(): Uint8Array {
    const bytes = new Uint8Array(STATE.BYTES);
    const view = new DataView(bytes.buffer);
    bytes.set(STATE_MAGIC, STATE.MAGIC);
    bytes[STATE.FORMAT] = STATE_FORMAT;
    bytes[STATE.SIDE] = this.side === 'client' ? 0 : 1;
    view.setUint32(STATE.FLAGS, this.flags, true);
    view.setUint32(STATE.OUTGOING_SEQ_NUM, this.#outgoing.seqNum, true);
    view.setUint32(STATE.INCOMING_SEQ_NUM, this.#incoming.seqNum, true);
    bytes.set(this.#outgoing.signingKey, STATE.OUTGOING_SIGNING_KEY);
    bytes.set(this.#incoming.signingKey, STATE.INCOMING_SIGNING_KEY);
    bytes.set(this.#outgoing.handle.exportState(), STATE.OUTGOING_RC4);
    bytes.set(this.#incoming.handle.exportState(), STATE.INCOMING_RC4);
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
    const direction = (seqAt: number, keyAt: number, rc4Offset: number): Direction => ({
      signingKey: bytes.slice(keyAt, keyAt + SIGNING_KEY_BYTES),
      handle: rc4At(rc4Offset),
      seqNum: view.getUint32(seqAt, true),
    });
    const side: NtlmSide = sideByte === 0 ? 'client' : 'server';
    const outgoing = direction(STATE.OUTGOING_SEQ_NUM, STATE.OUTGOING_SIGNING_KEY, STATE.OUTGOING_RC4);
    const incoming =
      (flags & NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) !== 0 ? direction(STATE.INCOMING_SEQ_NUM, STATE.INCOMING_SIGNING_KEY, STATE.INCOMING_RC4) : outgoing;
    return new NtlmSecurityContext(flags, side, outgoing, incoming);
  }
}
