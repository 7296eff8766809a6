// Generators for signed and sealed messages, for any package with a user-mode half: each lane
// holds a client and a server context of one process, established by a real handshake through
// the LSA and mapped into the process (MappedContext), and each input is one message between them.
//
//   <pkg>/verify-signature  MakeSignature on one side, the message altered, VerifySignature on the other
//   <pkg>/decrypt-message   EncryptMessage on one side, the message altered, DecryptMessage on the other
//   <pkg>/make-signature    MakeSignature given a hostile buffer list; what it signs must verify
//   <pkg>/encrypt-message   EncryptMessage given a hostile buffer list; what it seals must decrypt
//
// Alterations: signature or trailer bits, data bits, truncated or extended tokens, missing TOKEN
// or DATA buffers, extra buffers of odd types, READONLY and READONLY_WITH_CHECKSUM bits, reordered
// buffers, replayed and reflected messages, a message delivered twice, buffers that are views into
// larger memory, and contexts that are not mapped, deleted, or made up. Expectations checked on top
// of the status: an unaltered message verifies (and decrypts to its plaintext); a message whose
// covered bytes were altered is never accepted; a failed DecryptMessage leaves its buffers as they
// were. A lane's contexts are kept only while every call succeeds (a refused message may advance
// one side's sequence number or RC4 state, as Windows' NTLM does); otherwise the next input gets a
// fresh handshake.

import {
  ISC_REQ,
  SECBUFFER,
  SECBUFFER_READONLY,
  SECBUFFER_READONLY_WITH_CHECKSUM,
  SECPKG_ATTR,
  type SecBuffer,
  SEC_E_INVALID_HANDLE,
  SEC_E_OK,
  type Status,
  bufferTypeOf,
} from '../headers/index.js';
import type { CtxtHandle } from '../sspi/index.js';
import { concatBytes } from './bytes.js';
import {
  CLIENT_REQ,
  dropContext,
  firstClientLeg,
  handshake,
  SERVER_REQ,
  type FuzzEnv,
  type GeneratorInstance,
  type GeneratorSpec,
  type Trial,
} from './generator.js';
import type { Rng } from './rng.js';
import type { FuzzedFunction } from './statuses.js';

type Kind = 'sign' | 'seal';

interface LanePair {
  client: CtxtHandle;
  server: CtxtHandle;
  /** What the client asked for: everything, integrity only, or nothing. */
  protection: 'full' | 'integrity' | 'none';
  signatureBytes: number;
  trailerBytes: number;
  /** The last message that went each way and was accepted, for replays. */
  lastAccepted: { c2s?: SecBuffer[]; s2c?: SecBuffer[] };
}

const CLIENT_REQ_BY_PROTECTION = {
  full: CLIENT_REQ,
  integrity: ISC_REQ.INTEGRITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONNECTION,
  none: ISC_REQ.CONNECTION,
} as const;

/** One established pair per lane, replaced after any refused call. */
class Pairs {
  private readonly lanes: Array<LanePair | undefined>;

  private readonly env: FuzzEnv;

  constructor(env: FuzzEnv) {
    this.env = env;
    this.lanes = new Array<LanePair | undefined>(env.lanes).fill(undefined);
  }

  async get(rng: Rng, lane: number, trial: Trial): Promise<LanePair | undefined> {
    const existing = this.lanes[lane];
    if (existing !== undefined) return existing;
    const protection = rng.weighted<LanePair['protection']>([
      [18, 'full'],
      [1, 'integrity'],
      [1, 'none'],
    ]);
    const made = await handshake(this.env, CLIENT_REQ_BY_PROTECTION[protection], SERVER_REQ);
    if ('failed' in made) {
      trial.hostile('setup', new Uint8Array(0), `handshake (${protection})`);
      trial.violations.push(`the ${protection} handshake failed: ${made.failed}`);
      return undefined;
    }
    const sizes = await this.env.sspi.queryContextAttributes(made.client, SECPKG_ATTR.SIZES);
    const pair: LanePair = {
      client: made.client,
      server: made.server,
      protection,
      signatureBytes: sizes.buffer?.cbMaxSignature ?? 16,
      trailerBytes: sizes.buffer?.cbSecurityTrailer ?? 16,
      lastAccepted: {},
    };
    this.lanes[lane] = pair;
    return pair;
  }

  /** Deletes the lane's pair (both contexts). */
  async drop(lane: number, problems: string[], deleted?: CtxtHandle): Promise<void> {
    const pair = this.lanes[lane];
    if (pair === undefined) return;
    this.lanes[lane] = undefined;
    if (pair.client !== deleted) await dropContext(this.env.sspi, pair.client, problems, 'the client context');
    if (pair.server !== deleted) await dropContext(this.env.sspi, pair.server, problems, 'the server context');
  }

  async close(): Promise<string[]> {
    const problems: string[] = [];
    for (let lane = 0; lane < this.lanes.length; lane++) await this.drop(lane, problems);
    return problems;
  }
}

function copyList(buffers: readonly SecBuffer[]): SecBuffer[] {
  return buffers.map((b) => ({ BufferType: b.BufferType, pvBuffer: Uint8Array.from(b.pvBuffer) }));
}

function flipBit(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  if (out.length > 0) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return out;
}

const SIZES: readonly number[] = [0, 1, 2, 15, 16, 17, 31, 64, 255, 1024, 4096];

function payload(rng: Rng): Uint8Array {
  return rng.bytes(rng.chance(0.02) ? 65536 : rng.pick(SIZES) + (rng.chance(0.3) ? rng.int(64) : 0));
}

/** A plain message as an application builds it: TOKEN and DATA, sometimes with a read-only header and padding. */
function plainList(rng: Rng, kind: Kind, data: Uint8Array, tokenBytes: number): SecBuffer[] {
  const token: SecBuffer = { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(tokenBytes) };
  const body: SecBuffer = { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(data) };
  const list = kind === 'seal' || rng.chance(0.3) ? [token, body] : [body, token];
  if (rng.chance(0.1))
    list.unshift({
      BufferType: SECBUFFER.DATA | (rng.chance(0.5) ? SECBUFFER_READONLY : SECBUFFER_READONLY_WITH_CHECKSUM),
      pvBuffer: rng.bytes(rng.range(1, 24)),
    });
  if (rng.chance(0.05)) list.push({ BufferType: SECBUFFER.PADDING, pvBuffer: new Uint8Array(0) });
  return list;
}

const ODD_TYPES: readonly number[] = [
  SECBUFFER.EMPTY,
  SECBUFFER.PADDING,
  SECBUFFER.STREAM,
  SECBUFFER.STREAM_HEADER,
  SECBUFFER.STREAM_TRAILER,
  SECBUFFER.MISSING,
  SECBUFFER.EXTRA,
  0x7fff,
  0x0fffffff,
  0xffffffff,
  -1,
  Number.NaN,
];

/** An alteration of the receiver's copy: what it did, and whether it changed bytes the signature must cover. */
interface Alteration {
  name: string;
  covered: boolean;
  list: SecBuffer[];
}

function alter(rng: Rng, sent: SecBuffer[]): Alteration {
  const list = copyList(sent);
  const tokenAt = list.findIndex((b) => b.BufferType === SECBUFFER.TOKEN);
  const dataAt = list.findIndex((b) => b.BufferType === SECBUFFER.DATA);
  const token = list[tokenAt]!;
  const data = list[dataAt]!;
  const kind = rng.weighted<string>([
    [6, 'none'],
    [4, 'token-bit'],
    [4, 'data-bit'],
    [2, 'token-size'],
    [2, 'data-size'],
    [1, 'drop-token'],
    [1, 'drop-data'],
    [2, 'extra'],
    [2, 'attributes'],
    [1, 'retype'],
    [1, 'reorder'],
    [1, 'decoy-token'],
    [2, 'view'],
  ]);
  switch (kind) {
    case 'token-bit':
      token.pvBuffer = flipBit(rng, token.pvBuffer);
      return { name: 'a bit of the signature/trailer flipped', covered: true, list };
    case 'data-bit':
      if (data.pvBuffer.length === 0) return { name: 'none (no data to flip)', covered: false, list };
      data.pvBuffer = flipBit(rng, data.pvBuffer);
      return { name: 'a bit of the data flipped', covered: true, list };
    case 'token-size': {
      const size = rng.pick([0, 1, token.pvBuffer.length - 1, token.pvBuffer.length + 1, token.pvBuffer.length * 2, 4096]);
      token.pvBuffer = size <= token.pvBuffer.length ? token.pvBuffer.slice(0, size) : concatBytes(token.pvBuffer, rng.bytes(size - token.pvBuffer.length));
      return { name: `signature/trailer resized to ${size}`, covered: true, list };
    }
    case 'data-size': {
      const grow = rng.chance(0.5) || data.pvBuffer.length === 0;
      if (grow) data.pvBuffer = concatBytes(data.pvBuffer, rng.bytes(rng.range(1, 32)));
      else data.pvBuffer = data.pvBuffer.slice(0, rng.int(data.pvBuffer.length));
      return { name: `data ${grow ? 'extended' : 'truncated'} to ${data.pvBuffer.length}`, covered: true, list };
    }
    case 'drop-token':
      list.splice(tokenAt, 1);
      return { name: 'TOKEN buffer removed', covered: true, list };
    case 'drop-data': {
      const covered = data.pvBuffer.length > 0;
      list.splice(dataAt, 1);
      return { name: 'DATA buffer removed', covered, list };
    }
    case 'extra': {
      const count = rng.range(1, 4);
      for (let i = 0; i < count; i++) list.splice(rng.int(list.length + 1), 0, { BufferType: rng.pick(ODD_TYPES), pvBuffer: rng.bytes(rng.length(32)) });
      return { name: `${count} extra buffers of odd types`, covered: false, list };
    }
    case 'attributes': {
      const target = rng.chance(0.5) ? token : data;
      const bits = rng.pick([SECBUFFER_READONLY, SECBUFFER_READONLY_WITH_CHECKSUM, 0x40000000, 0xf0000000]);
      target.BufferType = (target.BufferType | bits) >>> 0;
      return { name: `${target === token ? 'TOKEN' : 'DATA'} with attribute bits 0x${bits.toString(16)}`, covered: false, list };
    }
    case 'retype': {
      const target = rng.chance(0.5) ? token : data;
      target.BufferType = rng.pick([SECBUFFER.EMPTY, SECBUFFER.DATA, SECBUFFER.TOKEN, SECBUFFER.PADDING, 0x7fff]);
      return { name: `${target === token ? 'TOKEN' : 'DATA'} retyped to ${target.BufferType}`, covered: false, list };
    }
    case 'reorder':
      list.reverse();
      return { name: 'buffers reversed', covered: false, list };
    case 'decoy-token':
      list.unshift({ BufferType: SECBUFFER.TOKEN, pvBuffer: rng.bytes(token.pvBuffer.length) });
      return { name: 'a random TOKEN before the real one', covered: true, list };
    case 'view': {
      for (const b of list) {
        const before = rng.range(1, 17);
        const backing = new Uint8Array(before + b.pvBuffer.length + 8).fill(0x5a);
        backing.set(b.pvBuffer, before);
        b.pvBuffer = backing.subarray(before, before + b.pvBuffer.length);
      }
      return { name: 'every buffer a view into larger memory', covered: false, list };
    }
    default:
      return { name: 'none', covered: false, list };
  }
}

/** The context a hostile call is made on: usually the receiver's, sometimes one that cannot be used. */
type HandleCase = 'receiver' | 'sender' | 'unmapped' | 'forged' | 'deleted';

async function hostileHandle(
  rng: Rng,
  env: FuzzEnv,
  trial: Trial,
  own: CtxtHandle,
  other: CtxtHandle,
): Promise<{ handle: CtxtHandle; how: HandleCase; cleanup: CtxtHandle | undefined }> {
  const how = rng.weighted<HandleCase>([
    [40, 'receiver'],
    [2, 'sender'],
    [1, 'unmapped'],
    [1, 'forged'],
    [1, 'deleted'],
  ]);
  switch (how) {
    case 'sender':
      return { handle: other, how, cleanup: undefined };
    case 'unmapped': {
      // Mutual authentication asked, so that a package whose handshake can end at the client's
      // first call (Kerberos without it) leaves a context half-way too; one that completes anyway
      // is a usable context of its own, no longer a case for SEC_E_INVALID_HANDLE.
      const first = await firstClientLeg(env, CLIENT_REQ | ISC_REQ.MUTUAL_AUTH);
      trial.record('InitializeSecurityContext', first);
      return { handle: first.context ?? own, how: first.status === SEC_E_OK ? 'sender' : how, cleanup: first.context };
    }
    case 'forged':
      return { handle: { dwLower: rng.pick([own.dwLower, rng.next()]), dwUpper: rng.next() } as unknown as CtxtHandle, how, cleanup: undefined };
    case 'deleted': {
      const deleted = await env.sspi.deleteSecurityContext(own);
      trial.expect(deleted.status === SEC_E_OK, 'DeleteSecurityContext of the receiver failed');
      return { handle: own, how, cleanup: undefined };
    }
    default:
      return { handle: own, how, cleanup: undefined };
  }
}

const SEND_FN: Record<Kind, FuzzedFunction> = { sign: 'MakeSignature', seal: 'EncryptMessage' };
const RECEIVE_FN: Record<Kind, FuzzedFunction> = { sign: 'VerifySignature', seal: 'DecryptMessage' };

async function send(
  env: FuzzEnv,
  kind: Kind,
  context: CtxtHandle,
  list: SecBuffer[],
  qop = 0,
  seq = 0,
): Promise<{ status: Status; cause?: { message?: string } | undefined; message: SecBuffer[] }> {
  return kind === 'sign' ? env.sspi.makeSignature(context, qop, list, seq) : env.sspi.encryptMessage(context, qop, list, seq);
}

async function receive(
  env: FuzzEnv,
  kind: Kind,
  context: CtxtHandle,
  list: SecBuffer[],
  seq = 0,
): Promise<{ status: Status; cause?: { message?: string } | undefined; message: SecBuffer[] }> {
  return kind === 'sign' ? env.sspi.verifySignature(context, list, seq) : env.sspi.decryptMessage(context, list, seq);
}

/** The DATA buffers' bytes, read-only or not: after an unseal they are the plaintext again. */
function dataOf(list: readonly SecBuffer[]): Uint8Array {
  return concatBytes(...list.filter((b) => bufferTypeOf(b) === SECBUFFER.DATA).map((b) => b.pvBuffer));
}

function allData(list: readonly SecBuffer[]): Uint8Array {
  return concatBytes(...list.map((b) => b.pvBuffer));
}

function protects(pair: LanePair, kind: Kind): boolean {
  return kind === 'sign' ? pair.protection !== 'none' : pair.protection === 'full';
}

/** One input of a message generator: a lane's mapped pair, and which side sends this time. */
interface MessageInput {
  rng: Rng;
  lane: number;
  trial: Trial;
  pair: LanePair;
  /** Client to server this time (the other way when false). */
  c2s: boolean;
  sender: CtxtHandle;
  receiver: CtxtHandle;
  pairs: Pairs;
}

/**
 * A message generator over the lanes' mapped pairs: each input gets its lane's pair (made on first
 * use, remade after a run drops it) and a random direction; closing deletes every pair.
 */
function onPairs(env: FuzzEnv, run: (input: MessageInput) => Promise<void>): GeneratorInstance {
  const pairs = new Pairs(env);
  return {
    async run(rng, lane, trial) {
      const pair = await pairs.get(rng, lane, trial);
      if (pair === undefined) return;
      const c2s = rng.chance(0.5);
      const [sender, receiver] = c2s ? [pair.client, pair.server] : [pair.server, pair.client];
      await run({ rng, lane, trial, pair, c2s, sender, receiver, pairs });
    },
    close: () => pairs.close(),
  };
}

/** <pkg>/verify-signature and <pkg>/decrypt-message: a good message from one side, altered, to the other. */
function receiverGenerator(env: FuzzEnv, kind: Kind): GeneratorInstance {
  return onPairs(env, async ({ rng, lane, trial, pair, c2s, sender, receiver, pairs }) => {
    const data = payload(rng);
    const plain = plainList(rng, kind, data, kind === 'sign' ? pair.signatureBytes : pair.trailerBytes);
    const original = copyList(plain);
    const sent = await send(env, kind, sender, plain);
    trial.record(SEND_FN[kind], sent);
    if (sent.status !== SEC_E_OK) {
      // Only a context without the protection may refuse a plain message; the refusal is then the answer.
      trial.hostile('unprotected', allData(sent.message), `${SEND_FN[kind]} on a ${pair.protection} context`);
      trial.expect(!protects(pair, kind), `${SEND_FN[kind]} refused a plain message on a ${pair.protection} context`);
      trial.answer(SEND_FN[kind], sent);
      await pairs.drop(lane, trial.violations);
      return;
    }
    const direction = c2s ? 'c2s' : 's2c';
    let alteration: Alteration;
    const replay = pair.lastAccepted[direction];
    const special = rng.weighted<'alter' | 'replay' | 'twice' | 'reflect'>([
      [40, 'alter'],
      [2, 'replay'],
      [2, 'twice'],
      [1, 'reflect'],
    ]);
    if (special === 'replay' && replay !== undefined) alteration = { name: 'an earlier accepted message replayed', covered: true, list: copyList(replay) };
    else alteration = alter(rng, sent.message);
    let target = receiver;
    if (special === 'reflect') {
      target = sender;
      alteration = { name: `reflected to its sender (${alteration.name})`, covered: true, list: alteration.list };
    }
    const accepted = copyList(sent.message);
    if (special === 'twice') {
      const once = await receive(env, kind, receiver, copyList(sent.message));
      trial.record(RECEIVE_FN[kind], once);
      if (pair.protection === 'full') trial.expectStatus(once.status, SEC_E_OK, 'the first delivery of a message delivered twice');
      alteration = { name: 'delivered a second time', covered: true, list: copyList(sent.message) };
    }
    const handle =
      target === receiver ? await hostileHandle(rng, env, trial, receiver, sender) : { handle: target, how: 'receiver' as HandleCase, cleanup: undefined };
    const before = allData(alteration.list);
    const name = `${kind === 'sign' ? 'signed' : 'sealed'} ${data.length} bytes ${direction}; ${alteration.name}${handle.how === 'receiver' ? '' : `; on the ${handle.how} context`}`;
    trial.hostile(special === 'alter' ? alteration.name.split(' ')[0]! : special, allData(alteration.list), name);
    const got = await receive(env, kind, handle.handle, alteration.list);
    const status = trial.answer(RECEIVE_FN[kind], got);
    if (handle.cleanup !== undefined) await dropContext(env.sspi, handle.cleanup, trial.violations, 'the unmapped context');
    if (handle.how === 'unmapped' || handle.how === 'forged' || handle.how === 'deleted') {
      trial.expectStatus(status, SEC_E_INVALID_HANDLE, `${RECEIVE_FN[kind]} on a ${handle.how} context`);
    } else if (protects(pair, kind) && (alteration.covered || handle.how === 'sender' || target === sender)) {
      trial.expect(status !== SEC_E_OK, `${RECEIVE_FN[kind]} accepted a message whose covered bytes were altered (${name})`);
    } else if (alteration.name === 'none' && pair.protection === 'full') {
      trial.expectStatus(status, SEC_E_OK, `${RECEIVE_FN[kind]} of an unaltered message`);
      if (kind === 'seal' && status === SEC_E_OK)
        trial.expect(Buffer.compare(dataOf(alteration.list), dataOf(original)) === 0, 'DecryptMessage did not restore the plaintext');
    }
    if (kind === 'seal' && status !== SEC_E_OK)
      trial.expect(Buffer.compare(allData(alteration.list), before) === 0, 'a failed DecryptMessage changed its buffers');
    if (status === SEC_E_OK && trial.calls.every((c) => c.status === SEC_E_OK) && handle.how === 'receiver') {
      pair.lastAccepted[direction] = accepted;
    } else {
      await pairs.drop(lane, trial.violations, handle.how === 'deleted' ? handle.handle : undefined);
    }
  });
}

/** A hostile list for MakeSignature/EncryptMessage: TOKEN missing, too small or doubled; DATA missing, many, read-only; odd types. */
function hostileSenderList(rng: Rng, tokenBytes: number): { list: SecBuffer[]; name: string } {
  const list: SecBuffer[] = [];
  const parts: string[] = [];
  const tokenShape = rng.weighted<string>([
    [6, 'right'],
    [2, 'small'],
    [1, 'large'],
    [1, 'none'],
    [1, 'two'],
    [1, 'readonly'],
  ]);
  const tokenSize = tokenShape === 'small' ? rng.int(tokenBytes) : tokenShape === 'large' ? tokenBytes + rng.range(1, 64) : tokenBytes;
  if (tokenShape !== 'none')
    list.push({ BufferType: SECBUFFER.TOKEN | (tokenShape === 'readonly' ? SECBUFFER_READONLY : 0), pvBuffer: new Uint8Array(tokenSize) });
  if (tokenShape === 'two') list.push({ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(tokenBytes) });
  parts.push(`TOKEN ${tokenShape}${tokenShape === 'small' || tokenShape === 'large' ? ` (${tokenSize})` : ''}`);
  const dataCount = rng.weighted<number>([
    [6, 1],
    [1, 0],
    [2, rng.range(2, 8)],
  ]);
  for (let i = 0; i < dataCount; i++) {
    const attributes = rng.weighted<number>([
      [8, 0],
      [1, SECBUFFER_READONLY],
      [1, SECBUFFER_READONLY_WITH_CHECKSUM],
    ]);
    list.push({ BufferType: SECBUFFER.DATA | attributes, pvBuffer: payload(rng) });
  }
  parts.push(`${dataCount} DATA`);
  if (rng.chance(0.2)) {
    const count = rng.range(1, 3);
    for (let i = 0; i < count; i++) list.push({ BufferType: rng.pick(ODD_TYPES), pvBuffer: rng.bytes(rng.length(16)) });
    parts.push(`${count} odd`);
  }
  if (rng.chance(0.3)) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    parts.push('shuffled');
  }
  return { list, name: parts.join(', ') };
}

/** <pkg>/make-signature and <pkg>/encrypt-message: hostile lists to the sender; what it accepts must go through. */
function senderGenerator(env: FuzzEnv, kind: Kind): GeneratorInstance {
  return onPairs(env, async ({ rng, lane, trial, pair, sender, receiver, pairs }) => {
    const { list, name } = hostileSenderList(rng, kind === 'sign' ? pair.signatureBytes : pair.trailerBytes);
    const qop = rng.weighted<number>([
      [18, 0],
      [1, 0x80000001], // SECQOP_WRAP_NO_ENCRYPT
      [1, rng.next()],
    ]);
    const seq = rng.chance(0.05) ? rng.next() : 0;
    const handle = await hostileHandle(rng, env, trial, sender, receiver);
    const original = copyList(list);
    trial.hostile(
      name.split(' ')[1] ?? 'list',
      allData(list),
      `${name}${qop === 0 ? '' : `; qop 0x${qop.toString(16)}`}${seq === 0 ? '' : `; MessageSeqNo ${seq}`}${handle.how === 'receiver' ? '' : `; on the ${handle.how} context`}`,
    );
    const sent = await send(env, kind, handle.handle, list, qop, seq);
    const status = trial.answer(SEND_FN[kind], sent);
    if (handle.cleanup !== undefined) await dropContext(env.sspi, handle.cleanup, trial.violations, 'the unmapped context');
    if (handle.how === 'unmapped' || handle.how === 'forged' || handle.how === 'deleted') {
      trial.expectStatus(status, SEC_E_INVALID_HANDLE, `${SEND_FN[kind]} on a ${handle.how} context`);
    }
    let keep = status === SEC_E_OK && handle.how === 'receiver';
    if (keep) {
      // Whatever the sender accepted, the receiver must accept back, with the plaintext restored.
      const delivered = copyList(sent.message);
      const got = await receive(env, kind, receiver, delivered);
      trial.record(RECEIVE_FN[kind], got);
      // A SECBUFFER_STREAM among the odd buffers is nothing to the sender, but DecryptMessage in
      // stream mode (Kerberos') takes it for the whole token: such a list is no longer the message sent.
      const stream =
        kind === 'seal' && sent.message.some((b) => (b.BufferType & ~(SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM)) === SECBUFFER.STREAM);
      if (pair.protection === 'full' && !stream) trial.expectStatus(got.status, SEC_E_OK, `${RECEIVE_FN[kind]} of what ${SEND_FN[kind]} accepted (${name})`);
      if (kind === 'seal' && got.status === SEC_E_OK)
        trial.expect(Buffer.compare(dataOf(delivered), dataOf(original)) === 0, 'DecryptMessage did not restore the plaintext');
      keep = got.status === SEC_E_OK;
    }
    if (!keep) await pairs.drop(lane, trial.violations, handle.how === 'deleted' ? handle.handle : undefined);
  });
}

/** What each message generator feeds, for the report: the receiving side first, then the sending side. */
const MESSAGE_GENERATORS: ReadonlyArray<{ side: 'receiver' | 'sender'; kind: Kind; describe: string }> = [
  { side: 'receiver', kind: 'sign', describe: 'signed messages altered on the way to VerifySignature on a mapped context' },
  { side: 'receiver', kind: 'seal', describe: 'sealed messages altered on the way to DecryptMessage on a mapped context' },
  { side: 'sender', kind: 'sign', describe: 'hostile buffer lists, qop and handles to MakeSignature; accepted ones must verify' },
  { side: 'sender', kind: 'seal', describe: 'hostile buffer lists, qop and handles to EncryptMessage; accepted ones must decrypt' },
];

/** A package's message generators, named after the function they judge ("ntlm/verify-signature"). */
function messageGenerators(packageKey: GeneratorSpec['packageKey']): GeneratorSpec[] {
  return MESSAGE_GENERATORS.map(({ side, kind, describe }) => {
    const fn = side === 'receiver' ? RECEIVE_FN[kind] : SEND_FN[kind];
    const make = side === 'receiver' ? receiverGenerator : senderGenerator;
    return {
      name: `${packageKey}/${fn.replace(/(?<=[a-z])(?=[A-Z])/g, '-').toLowerCase()}`,
      packageKey,
      target: 'messages',
      fn,
      describe,
      create: (env: FuzzEnv) => Promise.resolve(make(env, kind)),
    };
  });
}

export const NTLM_MESSAGE_GENERATORS: readonly GeneratorSpec[] = messageGenerators('ntlm');
export const EXAMPLE_MESSAGE_GENERATORS: readonly GeneratorSpec[] = messageGenerators('example');
export const NEGOTIATE_MESSAGE_GENERATORS: readonly GeneratorSpec[] = messageGenerators('negotiate');
export const KERBEROS_MESSAGE_GENERATORS: readonly GeneratorSpec[] = messageGenerators('kerberos');
/** The same for any package (nothing in them is a package's own): generic/verify-signature, ... */
export const GENERIC_MESSAGE_GENERATORS: readonly GeneratorSpec[] = messageGenerators('generic');
