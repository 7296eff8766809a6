// Structure-aware generators for the example package's three tokens, each fed to the real LSA at
// the leg that reads it:
//
//   example/hello         ClientHello -> AcceptSecurityContext, first call (serverProof)
//   example/server-proof  ServerProof -> InitializeSecurityContext, second call (clientProof)
//   example/client-proof  ClientProof -> AcceptSecurityContext, second call (serverComplete)
//
// The formats are the package's own (packages/example/wire.ts): a 6-byte header (magic "EXv1",
// message type, flags), then fixed-size nonces and proofs and 16-bit length-prefixed UTF-8 strings. The fuzzer
// knows the run account's password, so it derives K as the package does and forges tokens whose
// proofs are right: a forged ClientHello must be answered SEC_I_CONTINUE_NEEDED, a forged proof
// SEC_E_OK, and one bit off SEC_E_LOGON_DENIED or SEC_E_MUTUAL_AUTH_FAILED. Every other variant
// (lengths at the edges, names past 256 bytes, tokens past cbMaxToken 512, trailing bytes,
// truncations, flips, other message types) must be SEC_E_INVALID_TOKEN or a refusal, never a throw.

import {
  SEC_E_INVALID_TOKEN,
  SEC_E_LOGON_DENIED,
  SEC_E_MUTUAL_AUTH_FAILED,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  statusName,
  type Status,
} from '../headers/index.js';
import { anyByteMutation, concatBytes, INTERESTING_U16, noise, patched, u16le, type Mutated } from './bytes.js';
import { dropContext, firstClientLeg, outputToken, SERVER_REQ, tokenBuffer, type FuzzEnv, type GeneratorSpec, type Trial } from './generator.js';
import type { Rng } from './rng.js';
import { feedVariant, firstLeg, tokenGenerators, type TokenVariant } from './token-leg.js';
import {
  HEADER_BYTES,
  KEY_BYTES,
  MAGIC,
  MAX_NAME_BYTES,
  MAX_TOKEN_BYTES,
  MESSAGE_TYPE,
  NONCE_BYTES,
  deriveSecret,
  helloProof,
  mac,
  packClientHello,
  utf8,
  type ClientHello,
} from '../packages/example/wire.js';

function header(type: number, flags: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  new DataView(out.buffer).setUint32(0, MAGIC, true);
  out[4] = type;
  out[5] = flags;
  return out;
}

/** A ClientHello whose P1 is right for `user` (if `secret` is that user's K). */
function forgeHello(rng: Rng, secret: Uint8Array, user: string, domain: string, flags = rng.int(256)): { hello: ClientHello; bytes: Uint8Array } {
  const nc = rng.bytes(NONCE_BYTES);
  const hello: ClientHello = { flags, nc, p1: helloProof(secret, nc, user, domain), user: utf8(user), domain: utf8(domain) };
  return { hello, bytes: packClientHello(hello) };
}

function randomText(rng: Rng, maxBytes: number): string {
  const length = rng.length(maxBytes);
  let text = '';
  while (utf8(text).length < length) {
    text += rng.weighted<() => string>([
      [6, () => String.fromCharCode(rng.range(0x20, 0x7e))],
      [1, () => String.fromCharCode(rng.range(0xa0, 0x7ff))],
      [1, () => String.fromCodePoint(rng.chance(0.5) ? rng.range(0x800, 0xd7ff) : rng.range(0xe000, 0x10ffff))],
    ])();
  }
  // A multi-byte character may overshoot the length: trim back to it.
  while (utf8(text).length > length && text.length > 0) text = [...text].slice(0, -1).join('');
  return text;
}

interface Base {
  secret: Uint8Array;
  user: string;
  domain: string;
  /** A ClientHello the real client sent. */
  hello: Uint8Array;
}

async function capture(env: FuzzEnv): Promise<Base> {
  const first = await firstClientLeg(env);
  const hello = outputToken(first);
  const problems: string[] = [];
  await dropContext(env.sspi, first.context, problems, 'the capture client context');
  if (hello === undefined) throw new Error(`example capture: the first InitializeSecurityContext answered ${statusName(first.status)}`);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return { secret: deriveSecret(env.account.user, env.account.password), user: env.account.user, domain: env.account.domain, hello };
}

// ---------------------------------------------------------------------------------------------
// Shared mutations

/** A 16-bit length prefix (user or domain) set to an edge value. */
function editLength(rng: Rng, h: ClientHello): Mutated {
  const which = rng.pick(['user', 'domain'] as const);
  const at = which === 'user' ? HEADER_BYTES + NONCE_BYTES + KEY_BYTES : HEADER_BYTES + NONCE_BYTES + KEY_BYTES + 2 + h.user.length;
  const actual = which === 'user' ? h.user.length : h.domain.length;
  const value = rng.pick([0, 1, actual - 1, actual + 1, MAX_NAME_BYTES, MAX_NAME_BYTES + 1, ...INTERESTING_U16]) & 0xffff;
  return { bytes: patched(packClientHello(h), at, u16le(value)), mutation: `${which} length ${value} (actual ${actual})` };
}

function editHeader(rng: Rng, token: Uint8Array): Mutated {
  const at = rng.int(HEADER_BYTES - 1);
  if (at === 4) {
    const type = rng.pick([0, 1, 2, 3, 4, 0x7f, 0xff]);
    return { bytes: patched(token, 4, Uint8Array.of(type)), mutation: `header: message type ${type}` };
  }
  return { bytes: patched(token, at, Uint8Array.of(token[at]! ^ (1 << rng.int(8)))), mutation: `header: magic byte ${at} changed` };
}

/** The example package has no channel bindings: a bindings buffer is just bytes it must ignore. */
function bindings(rng: Rng): () => Uint8Array {
  return () => rng.bytes(rng.length(64));
}

// ---------------------------------------------------------------------------------------------
// example/hello

function helloVariant(rng: Rng, base: Base): TokenVariant {
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [4, 'forged'],
    [3, 'lengths'],
    [1, 'header'],
    [5, 'bytes'],
    [1, 'noise'],
  ]);
  const spellings = [base.user, base.user.toUpperCase(), base.user[0]!.toUpperCase() + base.user.slice(1)];
  switch (strategy) {
    case 'valid':
      return { bytes: base.hello, mutation: 'the captured ClientHello (replayed)', strategy, expected: SEC_I_CONTINUE_NEEDED };
    case 'forged': {
      const kind = rng.weighted<string>([
        [6, 'right'],
        [1, 'wrong-proof'],
        [1, 'unknown-user'],
        [1, 'long-domain'],
        [1, 'trailing'],
        [1, 'empty-user'],
      ]);
      const user = kind === 'unknown-user' ? rng.pick(['mallory', 'alice2', randomText(rng, 40) || 'x']) : kind === 'empty-user' ? '' : rng.pick(spellings);
      const domain = kind === 'long-domain' ? randomText(rng, 600).padEnd(MAX_NAME_BYTES + 1, 'd') : randomText(rng, MAX_NAME_BYTES);
      // The account's K is keyed by the lower-case user name, so every spelling proves the same.
      const { hello, bytes } = forgeHello(rng, base.secret, user, domain);
      if (kind === 'wrong-proof') {
        const flipped = Uint8Array.from(hello.p1);
        flipped[rng.int(KEY_BYTES)] ^= 1 << rng.int(8);
        return {
          bytes: packClientHello({ ...hello, p1: flipped }),
          mutation: 'forged ClientHello with one bit of P1 wrong',
          strategy,
          expected: SEC_E_LOGON_DENIED,
        };
      }
      if (kind === 'trailing') {
        const extra = rng.range(1, 16);
        return {
          bytes: concatBytes(bytes, rng.bytes(extra)),
          mutation: `forged ClientHello and ${extra} trailing bytes`,
          strategy,
          expected: SEC_E_INVALID_TOKEN,
        };
      }
      let expected: Status;
      if (bytes.length > MAX_TOKEN_BYTES || hello.domain.length > MAX_NAME_BYTES || hello.user.length > MAX_NAME_BYTES || hello.user.length === 0)
        expected = SEC_E_INVALID_TOKEN;
      else if (kind === 'unknown-user' && !spellings.includes(user)) expected = SEC_E_LOGON_DENIED;
      else expected = SEC_I_CONTINUE_NEEDED;
      return {
        bytes,
        mutation: `forged ClientHello (${kind}): user ${JSON.stringify(user)}, ${hello.domain.length}-byte domain, flags 0x${hello.flags.toString(16)}`,
        strategy,
        expected,
      };
    }
    case 'lengths': {
      const { hello } = forgeHello(rng, base.secret, base.user, randomText(rng, 64));
      return { ...editLength(rng, hello), strategy };
    }
    case 'header':
      return { ...editHeader(rng, base.hello), strategy };
    case 'noise':
      return { ...noise(rng, header(MESSAGE_TYPE.ClientHello, 0), MAX_TOKEN_BYTES), strategy };
    default:
      return { ...anyByteMutation(rng, base.hello, header(MESSAGE_TYPE.ServerProof, 0), MAX_TOKEN_BYTES), strategy };
  }
}

async function helloInput(env: FuzzEnv, base: Base, rng: Rng, trial: Trial): Promise<void> {
  await feedVariant(env, rng, trial, { fn: 'AcceptSecurityContext', what: 'the ClientHello', bindings: bindings(rng) }, helloVariant(rng, base));
}

// ---------------------------------------------------------------------------------------------
// example/server-proof

function proofVariant(rng: Rng, type: number, right: (ns: Uint8Array) => Uint8Array, refusal: Status, other: Uint8Array): TokenVariant {
  const ns = rng.bytes(NONCE_BYTES);
  const good = type === MESSAGE_TYPE.ServerProof ? concatBytes(header(type, 0), ns, right(ns)) : concatBytes(header(type, 0), right(ns));
  const strategy = rng.weighted<string>([
    [3, 'forged'],
    [2, 'wrong-proof'],
    [2, 'sizes'],
    [1, 'header'],
    [5, 'bytes'],
    [1, 'noise'],
  ]);
  switch (strategy) {
    case 'forged': {
      const flags = rng.chance(0.3) ? rng.int(256) : 0;
      return {
        bytes: patched(good, 5, Uint8Array.of(flags)),
        mutation: `forged with the right proof, flags 0x${flags.toString(16)}`,
        strategy,
        expected: SEC_E_OK,
      };
    }
    case 'wrong-proof': {
      const at = good.length - 1 - rng.int(KEY_BYTES);
      return {
        bytes: patched(good, at, Uint8Array.of(good[at]! ^ (1 << rng.int(8)))),
        mutation: `forged with one bit of the proof wrong at ${at}`,
        strategy,
        expected: refusal,
      };
    }
    case 'sizes': {
      const size = rng.pick([0, 1, HEADER_BYTES - 1, HEADER_BYTES, good.length - 1, good.length + 1, MAX_TOKEN_BYTES, MAX_TOKEN_BYTES + 1]);
      const bytes = size <= good.length ? good.subarray(0, size) : concatBytes(good, rng.bytes(size - good.length));
      return { bytes, mutation: `forged, resized to ${size} bytes`, strategy, expected: SEC_E_INVALID_TOKEN };
    }
    case 'header':
      return { ...editHeader(rng, good), strategy };
    case 'noise':
      return { ...noise(rng, header(type, 0), MAX_TOKEN_BYTES), strategy };
    default:
      return { ...anyByteMutation(rng, good, other, MAX_TOKEN_BYTES), strategy };
  }
}

async function serverProofInput(env: FuzzEnv, base: Base, rng: Rng, trial: Trial): Promise<void> {
  const first = await firstLeg(env, trial, 'InitializeSecurityContext', await firstClientLeg(env), new Uint8Array(0), 'first InitializeSecurityContext');
  if (first === undefined) return;
  const nc = first.token.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const variant = proofVariant(rng, MESSAGE_TYPE.ServerProof, (ns) => mac(base.secret, 'server', nc, ns), SEC_E_MUTUAL_AUTH_FAILED, first.token);
  await feedVariant(env, rng, trial, { fn: 'InitializeSecurityContext', context: first.context, what: 'the ServerProof', bindings: bindings(rng) }, variant);
}

// ---------------------------------------------------------------------------------------------
// example/client-proof

async function clientProofInput(env: FuzzEnv, base: Base, rng: Rng, trial: Trial): Promise<void> {
  const { hello, bytes: helloBytes } = forgeHello(rng, base.secret, base.user, base.domain, 0x3);
  const accepted = await env.sspi.acceptSecurityContext({ credential: env.serverCredential, input: tokenBuffer(helloBytes), contextReq: SERVER_REQ });
  const first = await firstLeg(env, trial, 'AcceptSecurityContext', accepted, helloBytes, 'first AcceptSecurityContext with a forged ClientHello');
  if (first === undefined) return;
  const ns = first.token.slice(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  // The server's Ns is in its ServerProof; the variant's own random Ns is not used for ClientProof.
  const variant = proofVariant(rng, MESSAGE_TYPE.ClientProof, () => mac(base.secret, 'client', hello.nc, ns), SEC_E_LOGON_DENIED, first.token);
  await feedVariant(env, rng, trial, { fn: 'AcceptSecurityContext', context: first.context, what: 'the ClientProof', bindings: bindings(rng) }, variant);
}

// ---------------------------------------------------------------------------------------------

export const EXAMPLE_TOKEN_GENERATORS: readonly GeneratorSpec[] = tokenGenerators('example', capture, [
  {
    name: 'example/hello',
    fn: 'AcceptSecurityContext',
    describe: 'ClientHello variants (captured, forged with K, mutated) to a new server context',
    run: helloInput,
  },
  {
    name: 'example/server-proof',
    fn: 'InitializeSecurityContext',
    describe: 'ServerProof variants to a client context that sent ClientHello',
    run: serverProofInput,
  },
  {
    name: 'example/client-proof',
    fn: 'AcceptSecurityContext',
    describe: 'ClientProof variants to a server context that sent ServerProof',
    run: clientProofInput,
  },
]);
