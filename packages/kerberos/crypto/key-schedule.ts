// The keys derived from one base key, made once per usage and kind and kept for as long as the base
// key lives (MIT keeps the same list in its krb5_key, "derived"): a ticket's session key encrypts
// an Authenticator per handshake and a service key opens every ticket, and each derivation is an
// AES or HMAC computation of its own (RFC 3961 5.3 DK, RFC 8009 KDF).
//
// The schedule hangs off the base key's bytes (the keyvalue array's identity, in a WeakMap), so it
// is collected with them and nothing outlives the key that made it. It also keeps a copy of those
// bytes and compares it at each use: a key whose bytes changed since (a wipe, fill(0), as the
// package does when a context or a credential ends) loses its schedule, which is wiped, and gets
// one made from what it holds now, so a changed key never answers with an old key's derivations.
// wipeKey zeroes a key and its schedule at once.

import type { EncryptionKey } from './cryptosystem.js';

interface Schedule {
  /** The base key's bytes when the schedule was made. */
  readonly base: Uint8Array;
  /** Derived keys by usage * 256 + the constant's last octet (0x99 Kc, 0xaa Ke, 0x55 Ki). */
  readonly derived: Map<number, Uint8Array>;
}

const schedules = new WeakMap<Uint8Array, Schedule>();

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function wipe(schedule: Schedule): void {
  schedule.base.fill(0);
  for (const k of schedule.derived.values()) k.fill(0);
  schedule.derived.clear();
}

/**
 * The key derived from `key` for `usage` and the constant's last octet `suffix`, made by `derive`
 * the first time and remembered with the key. The caller must not change or hand out the array it
 * gets (cryptosystem.ts copies what it returns to its own callers).
 */
export function derivedKey(key: Uint8Array, usage: number, suffix: number, derive: (key: Uint8Array, usage: number, suffix: number) => Uint8Array): Uint8Array {
  let schedule = schedules.get(key);
  if (schedule !== undefined && !same(schedule.base, key)) {
    wipe(schedule);
    schedule = undefined;
  }
  if (schedule === undefined) {
    schedule = { base: Uint8Array.from(key), derived: new Map() };
    schedules.set(key, schedule);
  }
  const id = usage * 256 + suffix;
  let derived = schedule.derived.get(id);
  if (derived === undefined) {
    derived = Uint8Array.from(derive(key, usage, suffix));
    schedule.derived.set(id, derived);
  }
  return derived;
}

/** Zeroes a key's bytes and every key derived from them. */
export function wipeKey(key: EncryptionKey): void {
  const schedule = schedules.get(key.keyvalue);
  if (schedule !== undefined) {
    wipe(schedule);
    schedules.delete(key.keyvalue);
  }
  key.keyvalue.fill(0);
}
