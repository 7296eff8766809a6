// MIT krb5's gss-sample wire protocol (src/appl/gss-sample/gss-misc.c, send_token/recv_token),
// which sspi-emu's TCP server and client speak so that MIT's gss-client and gss-server can be
// their peers. Each token on the stream is
//
//   offset 0  flags   1 byte  (TOKEN.* bits below)
//   offset 1  length  4 bytes, big-endian, unsigned
//   offset 5  token   `length` bytes
//
// A flags byte of 0 is the old "v1" format (no flags, a 3-byte length); sspi-emu does not speak
// it and refuses it. The conversation (gss-client.c call_server, gss-server.c sign_server):
//
//   client  NOOP|CONTEXT_NEXT, empty       "a context follows"
//   client  CONTEXT, token  <->  server CONTEXT, token   until the context is complete
//   client  DATA|WRAPPED|ENCRYPTED|SEND_MIC, wrapped message
//   server  MIC, a signature over the unwrapped message   (NOOP, empty, without SEND_MIC)
//   client  NOOP, empty                     "goodbye"
//
// Pure functions over bytes; every length is checked before a byte is read, and a length over
// the reader's limit is refused before anything is allocated for it.

import { EmuError, registerErrorClass } from '../ipc/index.js';

/** Token flags (gss-misc.h TOKEN_*). */
export const TOKEN = {
  NOOP: 0x01,
  CONTEXT: 0x02,
  DATA: 0x04,
  MIC: 0x08,
  CONTEXT_NEXT: 0x10,
  WRAPPED: 0x20,
  ENCRYPTED: 0x40,
  SEND_MIC: 0x80,
} as const;

/** Flags byte and length prefix. */
export const HEADER_LENGTH = 5;
const FLAGS_OFFSET = 0;
const LENGTH_OFFSET = 1;

/** The largest token a reader takes by default: NTLM tokens are a few hundred bytes, messages small. */
export const DEFAULT_MAX_TOKEN = 64 * 1024;

export interface Frame {
  flags: number;
  token: Uint8Array;
}

export type FramingErrorCode = 'TOKEN_TOO_LARGE' | 'TRUNCATED' | 'BAD_FLAGS';

/** A stream that does not follow the framing; `code` says how. */
export class FramingError extends EmuError<FramingErrorCode> {
  override readonly name = 'FramingError';
}
registerErrorClass('FramingError', FramingError, ['TOKEN_TOO_LARGE', 'TRUNCATED', 'BAD_FLAGS']);

/** One frame: flags (1..255), the token's length, the token. */
export function packFrame(flags: number, token: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (!Number.isInteger(flags) || flags < 1 || flags > 0xff) throw new FramingError('BAD_FLAGS', `token flags must be 1..255, not ${flags}`);
  if (token.byteLength > 0xffffffff) throw new FramingError('TOKEN_TOO_LARGE', `a token of ${token.byteLength} bytes does not fit a 32-bit length`);
  const frame = new Uint8Array(HEADER_LENGTH + token.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint8(FLAGS_OFFSET, flags);
  view.setUint32(LENGTH_OFFSET, token.byteLength, false);
  frame.set(token, HEADER_LENGTH);
  return frame;
}

/** The flags' names joined with "|", for logs and traces ("DATA|WRAPPED|ENCRYPTED|SEND_MIC"). */
export function tokenFlagNames(flags: number): string {
  const names = Object.entries(TOKEN)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
  return names.length > 0 ? names.join('|') : '0';
}

/**
 * Reassembles frames from a byte stream that arrives in arbitrary chunks. push() returns every
 * frame completed by the chunk; it throws FramingError for a v1 flags byte or a length over
 * `maxToken`, as soon as the five header bytes are in, without allocating the token. end() throws
 * TRUNCATED if the stream stopped inside a frame.
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private header: { flags: number; length: number } | null = null;

  readonly maxToken: number;

  constructor(maxToken: number = DEFAULT_MAX_TOKEN) {
    this.maxToken = maxToken;
  }

  /** Bytes received but not yet returned as a frame. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): Frame[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.byteLength;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.header === null) {
        if (this.buffered < HEADER_LENGTH) return frames;
        const head = this.take(HEADER_LENGTH);
        const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
        const flags = view.getUint8(FLAGS_OFFSET);
        const length = view.getUint32(LENGTH_OFFSET, false);
        if (flags === 0) throw new FramingError('BAD_FLAGS', 'a token with flags 0 (the gss-sample v1 format, which is not supported)');
        if (length > this.maxToken) throw new FramingError('TOKEN_TOO_LARGE', `a token of ${length} bytes is over the limit of ${this.maxToken}`);
        this.header = { flags, length };
      }
      if (this.buffered < this.header.length) return frames;
      frames.push({ flags: this.header.flags, token: this.take(this.header.length) });
      this.header = null;
    }
  }

  /** The stream ended: fine between frames, TRUNCATED inside one. */
  end(): void {
    if (this.header !== null || this.buffered > 0) {
      const expected = this.header === null ? `${HEADER_LENGTH}-byte header` : `${this.header.length}-byte token`;
      throw new FramingError('TRUNCATED', `the stream ended inside a frame (${this.buffered} of a ${expected})`);
    }
  }

  /** The next `n` buffered bytes (n <= buffered), as one copy. */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const used = Math.min(head.byteLength, n - filled);
      out.set(head.subarray(0, used), filled);
      filled += used;
      if (used === head.byteLength) this.chunks.shift();
      else this.chunks[0] = head.subarray(used);
    }
    this.buffered -= n;
    return out;
  }
}
