// SPNEGO tokens spelled out for traces and the CLI: describeNegotiationToken() turns a token into
// plain JSON-able data field by field, formatNegotiationToken() into indented text. The mechanism
// token inside (mechToken, responseToken) is described by the caller's describer, which knows the
// mechanisms' formats (`sspi-emu decode` passes NTLM's; Kerberos's can join it): this package
// imports no mechanism. Invalid input throws the DerError of der.ts, with its offset.

import { TAG } from './der.js';
import { MECH_NAMES, MECH_OID, NEG_STATE_NAMES, unpackNegotiationToken } from './spnego.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A mechanism token the describer understood: which mechanism's, and its fields. */
export interface InnerDescription {
  mechanism: string;
  decoded: JsonValue;
}

/** Describes a mechanism token; `mech` is the OID the token belongs to when SPNEGO says (else the describer looks). */
export type InnerDescriber = (token: Uint8Array, mech: string | undefined) => InnerDescription | undefined;

export type MechTokenDescription = { length: number; mechanism: string; decoded: JsonValue } | { length: number; hex: string };

export type NegotiationTokenDescription = { [key: string]: JsonValue } & { type: 'NegTokenInit' | 'NegTokenInit2' | 'NegTokenResp'; length: number };

/** The SPNEGO OID with its tag and length, as an InitialContextToken carries it after its own header. */
const SPNEGO_OID_DER = [0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];

/**
 * Whether the bytes are framed as SPNEGO rather than as a mechanism's own token: a bare [0] or
 * [1], or [APPLICATION 0] followed by the SPNEGO OID. Only the framing is looked at: a token cut
 * short or malformed past it is still SPNEGO, for the decoder to say what is wrong.
 */
export function isSpnegoToken(bytes: Uint8Array): boolean {
  if (bytes[0] === 0xa0 || bytes[0] === 0xa1) return true;
  if (bytes[0] !== TAG.APPLICATION_0 || bytes.length < 2) return false;
  const at = bytes[1]! < 0x80 ? 2 : 2 + (bytes[1]! & 0x7f);
  return SPNEGO_OID_DER.every((b, i) => bytes[at + i] === b);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function mechName(oid: string): string {
  const name = MECH_NAMES.get(oid);
  return name === undefined ? oid : `${oid} (${name})`;
}

function mechToken(token: Uint8Array, mech: string | undefined, inner: InnerDescriber | undefined): MechTokenDescription {
  const described = inner?.(token, mech);
  return described === undefined
    ? { length: token.length, hex: hex(token) }
    : { length: token.length, mechanism: described.mechanism, decoded: described.decoded };
}

/** The token field by field, as plain data; the mechanism tokens inside as `inner` describes them (hex otherwise). */
export function describeNegotiationToken(bytes: Uint8Array, inner?: InnerDescriber): NegotiationTokenDescription {
  const { token, framed } = unpackNegotiationToken(bytes);
  if (token.kind === 'NegTokenResp') {
    const out: NegotiationTokenDescription = { type: 'NegTokenResp', length: bytes.length };
    if (token.negState !== undefined) out.negState = `${token.negState} (${NEG_STATE_NAMES[token.negState]})`;
    if (token.supportedMech !== undefined) out.supportedMech = mechName(token.supportedMech);
    if (token.responseToken !== undefined) out.responseToken = mechToken(token.responseToken, token.supportedMech, inner);
    if (token.mechListMIC !== undefined) out.mechListMIC = hex(token.mechListMIC);
    return out;
  }
  const out: NegotiationTokenDescription = { type: token.negHints === undefined ? 'NegTokenInit' : 'NegTokenInit2', length: bytes.length };
  out.framing = framed ? `InitialContextToken, ${mechName(MECH_OID.SPNEGO)}` : 'bare';
  if (token.mechTypes !== undefined) out.mechTypes = token.mechTypes.map(mechName);
  if (token.reqFlags !== undefined) out.reqFlags = `${hex(token.reqFlags.bytes)} (${token.reqFlags.unusedBits} unused bits)`;
  // The optimistic token is the first mechanism's (RFC 4178 4.2.1).
  if (token.mechToken !== undefined) out.mechToken = mechToken(token.mechToken, token.mechTypes?.[0], inner);
  if (token.negHints !== undefined) {
    const hints: { [key: string]: JsonValue } = {};
    if (token.negHints.hintName !== undefined) hints.hintName = token.negHints.hintName;
    if (token.negHints.hintAddress !== undefined) hints.hintAddress = hex(token.negHints.hintAddress);
    out.negHints = hints;
  }
  if (token.mechListMIC !== undefined) out.mechListMIC = hex(token.mechListMIC);
  return out;
}

const INDENT = '  ';

function scalar(value: JsonValue): value is string | number | boolean | null {
  return value === null || typeof value !== 'object';
}

function text(value: string | number | boolean | null): string {
  return value === null ? '(none)' : value === '' ? '""' : String(value);
}

function lines(value: JsonValue, depth: number): string[] {
  const pad = INDENT.repeat(depth);
  if (scalar(value)) return [pad + text(value)];
  if (Array.isArray(value))
    return value.length === 0 ? [pad + '(empty)'] : value.flatMap((item) => (scalar(item) ? [`${pad}- ${text(item)}`] : lines(item, depth + 1)));
  return Object.entries(value).flatMap(([key, item]) => (scalar(item) ? [`${pad}${key}: ${text(item)}`] : [`${pad}${key}:`, ...lines(item, depth + 1)]));
}

/**
 * Readable indented text: a title line, one field per line; a mechanism token the describer
 * understood is printed by `formatInner` (its own format), indented under its field.
 */
export function formatNegotiationToken(description: NegotiationTokenDescription, formatInner?: (inner: InnerDescription) => string | undefined): string {
  const { type, length, ...fields } = description;
  const out = [`${type} (${length} bytes)`];
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'mechanism' in value && 'decoded' in value) {
      const innerText = formatInner?.({ mechanism: String(value.mechanism), decoded: value.decoded as JsonValue });
      out.push(`${INDENT}${key}: ${value.length} bytes, ${String(value.mechanism)}`);
      out.push(...(innerText === undefined ? lines(value.decoded as JsonValue, 2) : innerText.split('\n').map((l) => INDENT.repeat(2) + l)));
      continue;
    }
    out.push(...(scalar(value) ? [`${INDENT}${key}: ${text(value)}`] : [`${INDENT}${key}:`, ...lines(value, 2)]));
  }
  return out.join('\n');
}
