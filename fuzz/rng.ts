// A small seeded random number generator for the fuzzer: every input is generated from its own
// generator, seeded from (run seed, generator name, input index), so that input #i of a
// generator is the same whatever ran before it, in whichever worker, and can be replayed alone.
//
// sfc32 (Chris Doty-Humphrey's Small Fast Counter, 32-bit), seeded through splitmix32: fast,
// passes PractRand at these volumes, and needs nothing but 32-bit integer arithmetic.

/** FNV-1a over a string: turns a generator's name into 32 bits of seed. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32: spreads a 32-bit value over all bits; used to derive seeds. */
export function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The seed of input `index` of generator `name` in a run seeded with `seed`. */
export function inputSeed(seed: number, name: string, index: number): number {
  return mix32(mix32(seed >>> 0) ^ hashString(name) ^ mix32(index >>> 0));
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number) {
    this.a = mix32(seed);
    this.b = mix32(this.a);
    this.c = mix32(this.b);
    for (let i = 0; i < 12; i++) this.next();
  }

  /** 32 random bits as an unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (n <= 1) return 0;
    return n <= 0x100000000 ? Math.floor((this.next() / 0x100000000) * n) : Math.floor(this.float() * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  float(): number {
    return (this.next() * 0x200000 + (this.next() >>> 11)) / 2 ** 53;
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [w]) => sum + w, 0);
    let r = this.float() * total;
    for (const [w, value] of choices) {
      r -= w;
      if (r < 0) return value;
    }
    return choices[choices.length - 1]![1];
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      const v = this.next();
      out[i] = v;
      if (i + 1 < length) out[i + 1] = v >>> 8;
      if (i + 2 < length) out[i + 2] = v >>> 16;
      if (i + 3 < length) out[i + 3] = v >>> 24;
    }
    return out;
  }

  /** A length that is usually small and sometimes at an edge: 0, 1, a power of two and its neighbours, or `max`. */
  length(max: number): number {
    return this.weighted<() => number>([
      [4, () => this.int(Math.min(max, 64) + 1)],
      [2, () => this.int(max + 1)],
      [1, () => Math.min(max, this.pick([0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 255, 256, 257]))],
      [1, () => max],
    ])();
  }
}
