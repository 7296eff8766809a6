// Token decoders: what turns a handshake token's bytes into its fields for people to read (the
// HTML view of a run). A registry, tried in order: the first decoder that recognises a token
// describes it, as plain data (objects, arrays, strings, numbers) that any view can show without
// knowing the protocol. A decoder for another protocol (Kerberos, a package of yours) is one more
// entry: registerTokenDecoder, or a list of your own passed to the renderer.

import { HELLO_FLAGS, MAGIC, MESSAGE_TYPE, unpackClientHello, unpackClientProof, unpackServerProof } from '../packages/example/wire.js';
import { DerError, describeNegotiationToken, isSpnegoToken } from '../packages/negotiate/wire.js';
import { describeNtlmMessage } from '../packages/ntlm/wire.js';

/** Plain data: what a decoder's description is made of. */
export type Described = string | number | boolean | null | readonly Described[] | { readonly [field: string]: Described };

export interface TokenDecoder {
  /** The protocol's name, as the view labels the token ("NTLM", "Example"). */
  readonly name: string;
  /** Whether the token is this protocol's (its signature or magic): the decoder then owns it, and a failure to describe it is shown as such. */
  recognises(token: Uint8Array): boolean;
  /** The token's fields; throws (with the reason) when it is malformed. */
  describe(token: Uint8Array): Described;
}

/** A token as a decoder described it, or why it could not. */
export type DecodedToken = { decoder: string; fields: Described } | { decoder: string; error: string };

const NTLM_SIGNATURE = 'NTLMSSP\0';

/** NTLM messages (MS-NLMP): what `sspi-emu decode` prints. */
export const NTLM_DECODER: TokenDecoder = {
  name: 'NTLM',
  recognises: (token) => token.byteLength >= 8 && Buffer.from(token.buffer, token.byteOffset, 8).toString('latin1') === NTLM_SIGNATURE,
  describe: (token) => describeNtlmMessage(token) as unknown as Described,
};

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** The example package's three tokens (packages/example/wire.ts): ClientHello, ServerProof, ClientProof. */
export const EXAMPLE_DECODER: TokenDecoder = {
  name: 'Example',
  recognises: (token) => token.byteLength >= 6 && Buffer.from(token.buffer, token.byteOffset, token.byteLength).readUInt32LE(0) === MAGIC,
  describe: (token): Described => {
    switch (token[4]) {
      case MESSAGE_TYPE.ClientHello: {
        const hello = unpackClientHello(token);
        if (hello === undefined) throw new Error('a ClientHello whose lengths do not add up');
        const flags = Object.entries(HELLO_FLAGS)
          .filter(([, bit]) => (hello.flags & bit) !== 0)
          .map(([name]) => name);
        return { type: 'ClientHello', flags, user: text(hello.user), domain: text(hello.domain), Nc: hex(hello.nc), P1: hex(hello.p1) };
      }
      case MESSAGE_TYPE.ServerProof: {
        const proof = unpackServerProof(token);
        if (proof === undefined) throw new Error('a ServerProof of the wrong length');
        return { type: 'ServerProof', Ns: hex(proof.ns), SP: hex(proof.sp) };
      }
      case MESSAGE_TYPE.ClientProof: {
        const cp = unpackClientProof(token);
        if (cp === undefined) throw new Error('a ClientProof of the wrong length');
        return { type: 'ClientProof', CP: hex(cp) };
      }
      default:
        throw new Error(`message type ${token[4]} is none of the example's`);
    }
  },
};

/**
 * SPNEGO tokens (RFC 4178, MS-SPNG: NegTokenInit, NegTokenInit2, NegTokenResp), as `sspi-emu
 * decode` prints them. The mechanism token inside is described by the other registered decoders
 * (NTLM's; a Kerberos decoder registered later describes Kerberos's), hex when none recognises it.
 */
export const SPNEGO_DECODER: TokenDecoder = {
  name: 'SPNEGO',
  recognises: (token) => isSpnegoToken(token),
  describe: (token) => {
    try {
      return describeSpnego(token);
    } catch (error) {
      if (error instanceof DerError) throw new Error(`${error.message} (${error.code} at byte offset ${error.offset} of ${token.byteLength})`);
      throw error;
    }
  },
};

function describeSpnego(token: Uint8Array): Described {
  return describeNegotiationToken(token, (inner) => {
    const decoded = decodeToken(
      inner,
      REGISTRY.filter((d) => d !== SPNEGO_DECODER),
    );
    return decoded === undefined || !('fields' in decoded) ? undefined : { mechanism: decoded.decoder, decoded: decoded.fields as never };
  }) as unknown as Described;
}

/** The decoders every view starts with; SPNEGO last, its framing being the loosest signature. */
const REGISTRY: TokenDecoder[] = [NTLM_DECODER, EXAMPLE_DECODER, SPNEGO_DECODER];

/** Adds a decoder, tried after those registered before it (a second one of a name replaces the first). */
export function registerTokenDecoder(decoder: TokenDecoder): void {
  const at = REGISTRY.findIndex((d) => d.name === decoder.name);
  if (at >= 0) REGISTRY[at] = decoder;
  else REGISTRY.push(decoder);
}

/** The registered decoders, in the order they are tried. */
export function tokenDecoders(): readonly TokenDecoder[] {
  return [...REGISTRY];
}

/** The token described by the first decoder that recognises it; undefined when none does. */
export function decodeToken(token: Uint8Array, decoders: readonly TokenDecoder[] = REGISTRY): DecodedToken | undefined {
  const decoder = decoders.find((d) => {
    try {
      return d.recognises(token);
    } catch {
      return false;
    }
  });
  if (decoder === undefined) return undefined;
  try {
    return { decoder: decoder.name, fields: decoder.describe(token) };
  } catch (error) {
    return { decoder: decoder.name, error: error instanceof Error ? error.message : String(error) };
  }
}
