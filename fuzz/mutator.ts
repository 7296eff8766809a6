// The generic mutator: hostile variants of a token of a package the fuzzer knows nothing about,
// from the package's own tokens (every token of a live handshake of the run, both directions) and
// the live token the input is about to send. Two phases per generator:
//
// - A systematic sweep over the first inputs: for each leg in turn, position by position, the
//   token truncated there, the four integer edges written there (0xFFFF and 0xFFFFFFFF, little-
//   and big-endian: a length or offset field of a header, whichever its width and byte order),
//   the length of the token written there as a little-endian u16 (a length that claims the whole
//   token), and the byte's top bit flipped. Every length and every 2- and 4-byte offset of every
//   captured token is reached in (legs x 7 x length) inputs, whatever the seed.
// - Random strategies after it: bit and byte flips, insertions, deletions, truncations,
//   extensions, splices of two captured tokens, repetitions, zeroed ranges, interesting integers
//   (8, 16, 32 bits, either byte order, including the token's own length and its neighbours), a
//   token of another leg or direction, an empty token, a token past cbMaxToken, random bytes.
//
// Where the token then travels (no TOKEN buffer, extra buffers, channel bindings, ...) is the
// existing generators' business (token-leg.ts's call shapes).

import { concatBytes, extend, flip, INTERESTING_U16, INTERESTING_U32, INTERESTING_U8, noise, patched } from './bytes.js';
import type { Rng } from './rng.js';

/** A hostile token and what was done to it. */
export interface Variant {
  bytes: Uint8Array;
  mutation: string;
  /** The strategy's name, for the report's coverage counts. */
  strategy: string;
  /** The token was sent as it was (the strategy "valid"): the package must answer as it did in the live handshake. */
  unchanged?: boolean;
}

/** What the mutator works from: the package's tokens and its SecPkgInfo cbMaxToken. */
export interface Corpus {
  /** Every token of a live handshake, in order, both directions. */
  readonly tokens: readonly Uint8Array[];
  readonly maxToken: number;
}

/** What the sweep does at one position: cut there, write an integer edge there, or flip the byte's top bit. */
type SweepKind = { kind: 'truncate' } | { kind: 'integer'; width: 2 | 4; order: 'le' | 'be'; value: 'max' | 'length' } | { kind: 'top-bit' };

const SWEEP: readonly SweepKind[] = [
  { kind: 'truncate' },
  { kind: 'integer', width: 2, order: 'le', value: 'max' },
  { kind: 'integer', width: 2, order: 'be', value: 'max' },
  { kind: 'integer', width: 4, order: 'le', value: 'max' },
  { kind: 'integer', width: 4, order: 'be', value: 'max' },
  { kind: 'integer', width: 2, order: 'le', value: 'length' },
  { kind: 'top-bit' },
];

/** How many inputs the sweep over tokens of these lengths takes. */
export function sweepLength(lengths: readonly number[]): number {
  return lengths.length * SWEEP.length * Math.max(0, ...lengths);
}

/**
 * The sweep's item `index` over the tokens of `lengths` (one per leg): which leg, and what to do to
 * that leg's live token; undefined when the position lies past that leg's token (the input is
 * then a random one).
 */
export function sweepItem(index: number, lengths: readonly number[]): { leg: number; apply: (token: Uint8Array) => Variant } | undefined {
  const legs = lengths.length;
  if (legs === 0) return undefined;
  const leg = index % legs;
  const rest = Math.floor(index / legs);
  const at = Math.floor(rest / SWEEP.length);
  const item = SWEEP[rest % SWEEP.length]!;
  if (at >= lengths[leg]!) return undefined;
  return {
    leg,
    apply: (token) => {
      const n = token.length;
      switch (item.kind) {
        case 'truncate':
          return { bytes: token.slice(0, Math.min(at, n)), mutation: `sweep: truncated to ${Math.min(at, n)} of ${n} bytes`, strategy: 'sweep-truncate' };
        case 'top-bit':
          return { bytes: patched(token, at, Uint8Array.of((token[at] ?? 0) ^ 0x80)), mutation: `sweep: top bit of byte ${at} flipped`, strategy: 'sweep-bit' };
        default: {
          const value = item.value === 'length' ? n & 0xffff : item.width === 2 ? 0xffff : 0xffffffff;
          return {
            bytes: patched(token, at, encode(value, item.width, item.order)).slice(0, Math.max(n, at + item.width)),
            mutation: `sweep: u${item.width * 8}${item.order} 0x${value.toString(16)}${item.value === 'length' ? " (the token's length)" : ''} at ${at}`,
            strategy: 'sweep-integer',
          };
        }
      }
    },
  };
}

function encode(value: number, width: 1 | 2 | 4, order: 'le' | 'be'): Uint8Array {
  const out = new Uint8Array(width);
  for (let i = 0; i < width; i++) out[order === 'le' ? i : width - 1 - i] = (value >>> (8 * i)) & 0xff;
  return out;
}

/** A random variant of `token` (the live token of the leg under test), from the corpus. */
export function mutate(rng: Rng, token: Uint8Array, corpus: Corpus): Variant {
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [3, 'flip'],
    [2, 'insert'],
    [2, 'delete'],
    [2, 'truncate'],
    [1, 'extend'],
    [2, 'splice'],
    [1, 'repeat'],
    [1, 'zero'],
    [3, 'integer'],
    [2, 'wrong-leg'],
    [1, 'empty'],
    [1, 'huge'],
    [1, 'noise'],
  ]);
  const n = token.length;
  const other = (): Uint8Array => (corpus.tokens.length === 0 ? token : rng.pick(corpus.tokens));
  switch (strategy) {
    case 'valid':
      return { bytes: token, mutation: 'the live token, unchanged', strategy, unchanged: true };
    case 'flip':
      return { ...flip(rng, token), strategy };
    case 'insert': {
      const at = rng.int(n + 1);
      const inserted = rng.chance(0.5) ? rng.bytes(rng.range(1, 16)) : Uint8Array.of(rng.pick(INTERESTING_U8));
      return { bytes: concatBytes(token.subarray(0, at), inserted, token.subarray(at)), mutation: `${inserted.length} bytes inserted at ${at}`, strategy };
    }
    case 'delete': {
      if (n === 0) return { bytes: token, mutation: 'nothing to delete (an empty token)', strategy };
      const at = rng.int(n);
      const run = rng.range(1, Math.min(16, n - at));
      return { bytes: concatBytes(token.subarray(0, at), token.subarray(at + run)), mutation: `${run} bytes deleted at ${at}`, strategy };
    }
    case 'truncate': {
      const at = rng.int(n + 1);
      return { bytes: token.slice(0, at), mutation: `truncated to ${at} of ${n} bytes`, strategy };
    }
    case 'extend':
      return { ...extend(rng, token, corpus.maxToken), strategy };
    case 'splice': {
      const [first, second] = rng.chance(0.5) ? [token, other()] : [other(), other()];
      const cut = rng.int(first.length + 1);
      const from = rng.int(second.length + 1);
      return {
        bytes: concatBytes(first.subarray(0, cut), second.subarray(from)),
        mutation: `spliced: the first ${cut} bytes of ${first === token ? 'the live token' : 'a captured token'}, then a captured token from ${from}`,
        strategy,
      };
    }
    case 'repeat': {
      if (rng.chance(0.5) || n === 0) {
        const times = rng.range(2, 4);
        return { bytes: concatBytes(...Array.from({ length: times }, () => token)), mutation: `the token ${times} times over`, strategy };
      }
      const at = rng.int(n);
      const run = token.subarray(at, at + rng.range(1, Math.min(32, n - at)));
      const times = rng.range(2, 64);
      return {
        bytes: concatBytes(token.subarray(0, at), ...Array.from({ length: times }, () => run), token.subarray(at + run.length)),
        mutation: `${run.length} bytes at ${at} repeated ${times} times`,
        strategy,
      };
    }
    case 'zero': {
      if (n === 0) return { bytes: token, mutation: 'nothing to zero (an empty token)', strategy };
      const at = rng.int(n);
      const length = rng.range(1, n - at);
      const out = Uint8Array.from(token);
      out.fill(0, at, at + length);
      return { bytes: out, mutation: `${length} bytes zeroed at ${at}`, strategy };
    }
    case 'integer': {
      const width = rng.pick([1, 2, 4] as const);
      const order = rng.chance(0.5) ? 'le' : 'be';
      const near = [n - 1, n, n + 1, n * 2, corpus.maxToken, corpus.maxToken + 1].map((v) => v >>> 0);
      const value =
        width === 1 ? rng.pick(INTERESTING_U8) : rng.chance(0.3) ? rng.pick(near) : width === 2 ? rng.pick(INTERESTING_U16) : rng.pick(INTERESTING_U32);
      const masked = width === 4 ? value >>> 0 : value & (width === 2 ? 0xffff : 0xff);
      const at = rng.int(Math.max(1, n - width + 1));
      return {
        bytes: patched(token, at, encode(masked, width, order)).slice(0, Math.max(n, at + width)),
        mutation: `u${width * 8}${width === 1 ? '' : order} 0x${masked.toString(16)} at ${at}`,
        strategy,
      };
    }
    case 'wrong-leg': {
      const index = corpus.tokens.length === 0 ? -1 : rng.int(corpus.tokens.length);
      const picked = index < 0 ? token : corpus.tokens[index]!;
      if (rng.chance(0.7)) return { bytes: picked, mutation: `captured token #${index + 1} (another leg or direction), as it was`, strategy };
      const flipped = flip(rng, picked);
      return { bytes: flipped.bytes, mutation: `captured token #${index + 1}, ${flipped.mutation}`, strategy };
    }
    case 'empty':
      return { bytes: new Uint8Array(0), mutation: 'an empty token', strategy };
    case 'huge': {
      const size = rng.pick([corpus.maxToken + 1, corpus.maxToken * 2, 65_536, 1 << 20]);
      const tail = rng.chance(0.5) ? new Uint8Array(Math.max(0, size - n)) : rng.bytes(Math.max(0, size - n));
      return {
        bytes: concatBytes(token, tail),
        mutation: `the token and ${tail.length} more bytes: ${n + tail.length} bytes (cbMaxToken ${corpus.maxToken})`,
        strategy,
      };
    }
    default:
      return { ...noise(rng, token.subarray(0, Math.min(8, n)), corpus.maxToken), strategy };
  }
}
