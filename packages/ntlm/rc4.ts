// RC4 stream cipher. NTLM seals messages and encrypts the random session key with it
// (MS-NLMP 3.4.3, 3.1.5.1.2, RC4Init/RC4 in 6 "Appendix A: Cryptographic Operations Reference").
// Node 20's OpenSSL 3 refuses 'rc4' without the legacy provider, so it lives here.
//
// The cipher is a stream whose position matters: NTLM's sealing handle continues from one message
// to the next, so the state (S-box, i, j) can be exported to bytes and restored in another thread.

const SBOX_BYTES = 256;
/** exportState() layout: S[0..255], then i, then j. */
const STATE_I_OFFSET = 256;
const STATE_J_OFFSET = 257;
export const RC4_STATE_BYTES = 258;
/** importState() builds through the constructor, then overwrites the schedule this key made. */
const PLACEHOLDER_KEY = new Uint8Array(1);
/** importState() builds through the constructor and then overwrites the schedule this key made. */
export class Rc4 {
  readonly #s = new Uint8Array(SBOX_BYTES);
  #i = 0;
  #j = 0;

  /** RC4Init: the key-scheduling algorithm over a 1..256-byte key. */
  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > SBOX_BYTES) {
      throw new RangeError(`RC4 key must be 1 to 256 bytes, got ${key.length}`);
    }
    const s = this.#s;
    for (let k = 0; k < SBOX_BYTES; k++) s[k] = k;
    let j = 0;
    for (let i = 0; i < SBOX_BYTES; i++) {
      j = (j + s[i]! + key[i % key.length]!) & 0xff;
      const t = s[i]!;
      s[i] = s[j]!;
      s[j] = t;
    }
  }

  /** Encrypts or decrypts `data` into a new array, advancing the stream by data.length bytes. */
  process(data: Uint8Array): Uint8Array {
    const out = Uint8Array.from(data);
    this.processInPlace(out);
    return out;
  }

  /** XORs the keystream into `data` itself. */
  processInPlace(data: Uint8Array): void {
    const s = this.#s;
    let i = this.#i;
    let j = this.#j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      j = (j + s[i]!) & 0xff;
      const t = s[i]!;
      s[i] = s[j]!;
      s[j] = t;
      data[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
    }
    this.#i = i;
    this.#j = j;
  }

  /** The 258-byte state: the S-box, then i, then j. Secret: it decrypts the rest of the stream. */
  exportState(): Uint8Array {
    const state = new Uint8Array(RC4_STATE_BYTES);
    state.set(this.#s);
    state[STATE_I_OFFSET] = this.#i;
    state[STATE_J_OFFSET] = this.#j;
    return state;
  }

  /** A cipher that continues exactly where the exporting one stopped. */
  static importState(state: Uint8Array): Rc4 {
    if (state.length !== RC4_STATE_BYTES) {
      throw new RangeError(`RC4 state must be ${RC4_STATE_BYTES} bytes, got ${state.length}`);
    }
    const sbox = state.subarray(0, SBOX_BYTES);
    const seen = new Uint8Array(SBOX_BYTES);
    for (const v of sbox) seen[v] = 1;
    if (seen.includes(0)) throw new RangeError('RC4 state S-box is not a permutation of 0..255');

    const rc4 = new Rc4(PLACEHOLDER_KEY); // the schedule it runs is overwritten just below
    rc4.#s.set(sbox);
    rc4.#i = state[STATE_I_OFFSET]!;
    rc4.#j = state[STATE_J_OFFSET]!;
    return rc4;
  }
}
