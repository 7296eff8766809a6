// RC4 stream cipher. NTLM seals messages and encrypts the random session key with it
// (MS-NLMP 3.4.3, 3.1.5.1.2, RC4Init/RC4 in 6 "Appendix A: Cryptographic Operations Reference").
// Node 20's OpenSSL 3 refuses 'rc4' without the legacy provider, so it lives here.
//
// The cipher is a stream whose position matters: NTLM's sealing handle continues from one message
// to the next. Its whole state (S-box, i, j) is one 258-byte array, the same bytes exportState()
// hands out, so a handle moves to another thread as a copy of that array and resumes from it
// without running the key schedule again.

const SBOX_BYTES = 256;
/** The state's layout: S[0..255], then i, then j. */
const STATE_I_OFFSET = 256;
const STATE_J_OFFSET = 257;
export const RC4_STATE_BYTES = 258;
/** The constructor's argument from importState (by identity): no key, the state follows. */
const RESTORING = new Uint8Array(0);

export class Rc4 {
  /** S[0..255], i, j. */
  #state: Uint8Array;

  /** RC4Init: the key-scheduling algorithm over a 1..256-byte key. */
  constructor(key: Uint8Array) {
    if (key === RESTORING) {
      // importState's path: it sets the state it checked, without a key schedule.
      this.#state = RESTORING;
      return;
    }
    if (key.length < 1 || key.length > SBOX_BYTES) {
      throw new RangeError(`RC4 key must be 1 to 256 bytes, got ${key.length}`);
    }
    const s = new Uint8Array(RC4_STATE_BYTES);
    for (let k = 0; k < SBOX_BYTES; k++) s[k] = k;
    const keyLength = key.length;
    let j = 0;
    for (let i = 0, k = 0; i < SBOX_BYTES; i++) {
      const t = s[i]!;
      j = (j + t + key[k]!) & 0xff;
      s[i] = s[j]!;
      s[j] = t;
      if (++k === keyLength) k = 0;
    }
    this.#state = s;
  }

  /** Encrypts or decrypts `data` into a new array, advancing the stream by data.length bytes. */
  process(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data);
    this.processInPlace(out);
    return out;
  }

  /** XORs the keystream into data[start..end) itself (all of it by default). */
  processInPlace(data: Uint8Array, start = 0, end = data.length): void {
    const s = this.#state;
    let i = s[STATE_I_OFFSET]!;
    let j = s[STATE_J_OFFSET]!;
    for (let n = start; n < end; n++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      data[n] = data[n]! ^ s[(si + sj) & 0xff]!;
    }
    s[STATE_I_OFFSET] = i;
    s[STATE_J_OFFSET] = j;
  }

  /** The 258-byte state: the S-box, then i, then j. Secret: it decrypts the rest of the stream. */
  exportState(): Uint8Array {
    return new Uint8Array(this.#state);
  }

  /** Copies the state into `into` (258 bytes) and returns it: a point rewind() can come back to. */
  snapshot(into: Uint8Array): Uint8Array {
    into.set(this.#state);
    return into;
  }

  /** Puts the stream back where a snapshot() of this cipher took it (to undo a decryption that is not kept). */
  rewind(from: Uint8Array): void {
    if (from.length !== RC4_STATE_BYTES) throw new RangeError(`RC4 state must be ${RC4_STATE_BYTES} bytes, got ${from.length}`);
    this.#state.set(from);
  }

  /** Zeroes the state; the cipher is unusable afterwards. */
  wipe(): void {
    this.#state.fill(0);
  }

  /** A cipher that continues exactly where the exporting one stopped (it keeps its own copy). */
  static importState(state: Uint8Array): Rc4 {
    if (state.length !== RC4_STATE_BYTES) {
      throw new RangeError(`RC4 state must be ${RC4_STATE_BYTES} bytes, got ${state.length}`);
    }
    const seen = new Uint8Array(SBOX_BYTES);
    for (let k = 0; k < SBOX_BYTES; k++) seen[state[k]!] = 1;
    if (seen.includes(0)) throw new RangeError('RC4 state S-box is not a permutation of 0..255');
    const rc4 = new Rc4(RESTORING);
    rc4.#state = new Uint8Array(state);
    return rc4;
  }
}
