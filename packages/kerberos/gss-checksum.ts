// The authenticator checksum of the Kerberos GSS-API mechanism (RFC 4121 4.1.1): checksum type
// 0x8003, whose "checksum" is structured data rather than a checksum (all integers little-endian):
//
//   Lgth (4)   16, the length of Bnd
//   Bnd (16)   MD5 of the channel bindings (RFC 4121 4.1.1.2), or 16 zeros when there are none
//   Flags (4)  the context flags the initiator asks for (GSS_C_*)
//   DlgOpt (2), Dlgth (2), Deleg (Dlgth)   only with GSS_C_DELEG_FLAG: 1 and a KRB-CRED
//   Exts       MIT's extensions (4-byte big-endian type and length each), skipped here
//
// The channel bindings' hash is MD5 over the gss_channel_bindings_struct flattened: each address
// type and length as a 4-byte little-endian integer before its bytes, then the application data's
// length and bytes; SSPI's SEC_CHANNEL_BINDINGS carries the same fields (headers/sspi.ts).

import { createHash } from 'node:crypto';
import { SEC_CHANNEL_BINDINGS } from '../../headers/index.js';

/** The checksum type of the structured checksum (RFC 4121 4.1.1). */
export const GSS_CHECKSUM_TYPE = 0x8003;

/** GSS-API context flags (RFC 2744 3.7 and MIT's gssapi.h), as the checksum's Flags carries them. */
export const GSS_C = {
  DELEG: 0x1,
  MUTUAL: 0x2,
  REPLAY: 0x4,
  SEQUENCE: 0x8,
  CONF: 0x10,
  INTEG: 0x20,
  ANON: 0x40,
  PROT_READY: 0x80,
  TRANS: 0x100,
  DCE_STYLE: 0x1000,
  IDENTIFY: 0x2000,
  EXTENDED_ERROR: 0x4000,
} as const;

const BND_BYTES = 16;
const FIXED_BYTES = 4 + BND_BYTES + 4;
export const NO_BINDINGS: Uint8Array = new Uint8Array(BND_BYTES);

export interface GssChecksum {
  /** Bnd: 16 bytes, all zero when the initiator had no channel bindings. */
  bindingsHash: Uint8Array;
  flags: number;
  /** The KRB-CRED of a delegated credential (DlgOpt 1), when the flags carry GSS_C_DELEG_FLAG. */
  delegation?: Uint8Array;
}

export function packGssChecksum(c: GssChecksum): Uint8Array {
  if (c.bindingsHash.length !== BND_BYTES) throw new RangeError(`Bnd is ${BND_BYTES} bytes`);
  const deleg = c.delegation;
  const out = new Uint8Array(FIXED_BYTES + (deleg === undefined ? 0 : 4 + deleg.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, BND_BYTES, true);
  out.set(c.bindingsHash, 4);
  view.setUint32(4 + BND_BYTES, c.flags >>> 0, true);
  if (deleg !== undefined) {
    if (deleg.length > 0xffff) throw new RangeError('a delegated credential of more than 65535 bytes');
    view.setUint16(FIXED_BYTES, 1, true);
    view.setUint16(FIXED_BYTES + 2, deleg.length, true);
    out.set(deleg, FIXED_BYTES + 4);
  }
  return out;
}

/** Reads the structured checksum, checking every length before it is read; a reason string when it is malformed. */
export function unpackGssChecksum(bytes: Uint8Array): GssChecksum | string {
  if (bytes.length < FIXED_BYTES) return `the 0x8003 checksum is ${bytes.length} bytes; it has at least ${FIXED_BYTES}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lgth = view.getUint32(0, true);
  if (lgth !== BND_BYTES) return `the 0x8003 checksum's Lgth is ${lgth}, not 16`;
  const out: GssChecksum = { bindingsHash: bytes.slice(4, 4 + BND_BYTES), flags: view.getUint32(4 + BND_BYTES, true) };
  let at = FIXED_BYTES;
  if ((out.flags & GSS_C.DELEG) !== 0 && bytes.length - at >= 4) {
    const option = view.getUint16(at, true);
    const length = view.getUint16(at + 2, true);
    if (option !== 1) return `the 0x8003 checksum's DlgOpt is ${option}, not 1`;
    if (at + 4 + length > bytes.length) return 'the 0x8003 checksum\'s Deleg runs past its end';
    out.delegation = bytes.slice(at + 4, at + 4 + length);
    at += 4 + length;
  }
  // Exts (MIT): 4-byte big-endian type and length each, every one checked and skipped.
  while (at < bytes.length) {
    if (at + 8 > bytes.length) return 'an extension of the 0x8003 checksum is cut off';
    const length = view.getUint32(at + 4, false);
    if (length > bytes.length - at - 8) return 'an extension of the 0x8003 checksum runs past its end';
    at += 8 + length;
  }
  return out;
}

/** The 16-byte Bnd of an application's SEC_CHANNEL_BINDINGS, or why the buffer is malformed. */
export function channelBindingsHash(secChannelBindings: Uint8Array): Uint8Array | string {
  const C = SEC_CHANNEL_BINDINGS;
  if (secChannelBindings.length < C.HEADER_BYTES) return `SEC_CHANNEL_BINDINGS is ${secChannelBindings.length} bytes; its header needs ${C.HEADER_BYTES}`;
  const view = new DataView(secChannelBindings.buffer, secChannelBindings.byteOffset, secChannelBindings.byteLength);
  const md5 = createHash('md5');
  const u32 = (value: number): Uint8Array => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return b;
  };
  const part = (typeAt: number | undefined, lengthAt: number, offsetAt: number, name: string): string | undefined => {
    const length = view.getUint32(lengthAt, true);
    const offset = view.getUint32(offsetAt, true);
    if (length > 0 && (offset < C.HEADER_BYTES || offset + length > secChannelBindings.length))
      return `SEC_CHANNEL_BINDINGS ${name} (offset ${offset}, length ${length}) is outside the buffer`;
    if (typeAt !== undefined) md5.update(u32(view.getUint32(typeAt, true)));
    md5.update(u32(length));
    if (length > 0) md5.update(secChannelBindings.subarray(offset, offset + length));
    return undefined;
  };
  const problem =
    part(C.INITIATOR_ADDR_TYPE, C.INITIATOR_LENGTH, C.INITIATOR_OFFSET, 'initiator address') ??
    part(C.ACCEPTOR_ADDR_TYPE, C.ACCEPTOR_LENGTH, C.ACCEPTOR_OFFSET, 'acceptor address') ??
    part(undefined, C.APPLICATION_DATA_LENGTH, C.APPLICATION_DATA_OFFSET, 'application data');
  return problem ?? new Uint8Array(md5.digest());
}

export function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}
