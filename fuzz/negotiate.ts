// Structure-aware generators for Negotiate's SPNEGO tokens (RFC 4178, MS-SPNG), each fed to the
// real LSA at the leg that reads it, with NTLM beneath:
//
//   negotiate/init          NegTokenInit(2), or a raw NTLMSSP token -> AcceptSecurityContext, first call
//   negotiate/challenge     NegTokenResp { CHALLENGE }              -> InitializeSecurityContext, second call
//   negotiate/authenticate  NegTokenResp { AUTHENTICATE, mechListMIC } -> AcceptSecurityContext, second call
//   negotiate/final         NegTokenResp { accept-completed, mechListMIC } -> InitializeSecurityContext, third call
//
// Each starts from the tokens of a real Negotiate handshake of this run (NTLM runs with
// fixedServerChallenge and fixedTime, so a captured AUTHENTICATE and its mechListMIC verify against
// every server context), and builds variants with the package's own packers: mechanism lists
// (NTLM first, later, absent; unknown OIDs; hundreds), negState values, supportedMech, the inner
// token (captured, mutated, random), the mechListMIC (right, one bit off, cut, missing, the
// response token repeated as old peers did); and at the DER level, over a tree of the token's
// TLVs, each header in a form DER forbids (indefinite and non-minimal lengths, the high-tag form),
// tags changed, fields repeated, reordered, dropped or emptied, extension fields added (which must
// change nothing); then byte flips, truncations, splices and noise. The server's last token is
// forged for each client context: the fuzzer knows the password, so it recovers the client's
// session key from its AUTHENTICATE and signs the MechTypeList as the server would, so that a
// right mechListMIC, and each way of getting it wrong, reach the client's check.

import { SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, SEC_E_MESSAGE_ALTERED, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName, type Status } from '../headers/index.js';
import {
  DerError,
  MAX_MECH_TYPES,
  MECH_OID,
  NEG_STATE,
  NEGOTIATE_MAX_TOKEN,
  packNegTokenInit,
  packNegTokenResp,
  readTlv,
  unpackNegotiationToken,
  WINDOWS_HINT_NAME,
  type NegState,
  type NegTokenResp,
} from '../packages/negotiate/wire.js';
import {
  encryptRandomSessionKey,
  hmacMd5,
  kxkeyV2,
  NtlmSecurityContext,
  ntowfv1,
  ntowfv2FromNtHash,
  unpackAuthenticate,
  unpackChallenge,
} from '../packages/ntlm/wire.js';
import { anyByteMutation, concatBytes, noise } from './bytes.js';
import { CLIENT_REQ, dropContext, firstClientLeg, outputToken, SERVER_REQ, tokenBuffer, type FuzzEnv, type GeneratorSpec, type Trial } from './generator.js';
import type { Rng } from './rng.js';
import { feedVariant, firstLeg, tokenGenerators, type Leg, type TokenVariant } from './token-leg.js';

/** What every Negotiate generator starts from: one real handshake's four tokens and what is inside them. */
interface Captured {
  init: Uint8Array;
  /** The server's first NegTokenResp (CHALLENGE), the client's (AUTHENTICATE with its mechListMIC), the server's last (its mechListMIC). */
  challengeResp: Uint8Array;
  authenticateResp: Uint8Array;
  finalResp: Uint8Array;
  negotiate: Uint8Array;
  challenge: Uint8Array;
  authenticate: Uint8Array;
  mechList: Uint8Array;
  /** NegotiateFlags the server's CHALLENGE offers. */
  offered: number;
  serverChallenge: Uint8Array;
  ntHash: Uint8Array;
}

const OTHER_OIDS: readonly string[] = [
  MECH_OID.KRB5,
  MECH_OID.MS_KRB5,
  MECH_OID.NEGOEX,
  MECH_OID.KRB5_USER_TO_USER,
  '1.2.3',
  '2.999.1',
  '1.3.6.1.4.1.311.2.2.11',
];

function resp(bytes: Uint8Array): NegTokenResp {
  const { token } = unpackNegotiationToken(bytes);
  if (token.kind !== 'NegTokenResp') throw new Error('the captured token is not a NegTokenResp');
  return token;
}

function strip(token: NegTokenResp): Omit<NegTokenResp, 'kind'> {
  const { kind: _kind, ...fields } = token;
  return fields;
}

async function capture(env: FuzzEnv): Promise<Captured> {
  const { sspi } = env;
  const problems: string[] = [];
  const c1 = await firstClientLeg(env);
  const init = outputToken(c1);
  const s1 = await sspi.acceptSecurityContext({ credential: env.serverCredential, input: tokenBuffer(init ?? new Uint8Array(0)), contextReq: SERVER_REQ });
  const challengeResp = outputToken(s1);
  const c2 = await sspi.initializeSecurityContext({
    credential: env.clientCredential,
    context: c1.context ?? null,
    contextReq: CLIENT_REQ,
    input: tokenBuffer(challengeResp ?? new Uint8Array(0)),
  });
  const authenticateResp = outputToken(c2);
  const s2 = await sspi.acceptSecurityContext({
    credential: env.serverCredential,
    context: s1.context ?? null,
    input: tokenBuffer(authenticateResp ?? new Uint8Array(0)),
    contextReq: SERVER_REQ,
  });
  const finalResp = outputToken(s2);
  const c3 = await sspi.initializeSecurityContext({
    credential: env.clientCredential,
    context: c1.context ?? null,
    contextReq: CLIENT_REQ,
    input: tokenBuffer(finalResp ?? new Uint8Array(0)),
  });
  for (const [context, what] of [
    [c1.context, 'client'],
    [s1.context, 'server'],
  ] as const)
    await dropContext(sspi, context, problems, what);
  if (init === undefined || challengeResp === undefined || authenticateResp === undefined || finalResp === undefined || c3.status !== SEC_E_OK)
    throw new Error(`Negotiate capture handshake failed: ${[c1, s1, c2, s2, c3].map((r) => statusName(r.status)).join(', ')}`);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const { token } = unpackNegotiationToken(init);
  if (token.kind !== 'NegTokenInit' || token.mechToken === undefined || token.mechTypeList === undefined)
    throw new Error('the captured NegTokenInit has no mechToken');
  const challenge = resp(challengeResp).responseToken!;
  const parsed = unpackChallenge(challenge);
  return {
    init,
    challengeResp,
    authenticateResp,
    finalResp,
    negotiate: token.mechToken,
    challenge,
    authenticate: resp(authenticateResp).responseToken!,
    mechList: token.mechTypeList,
    offered: parsed.flags,
    serverChallenge: parsed.serverChallenge,
    ntHash: ntowfv1(env.account.password),
  };
}

// ---------------------------------------------------------------------------------------------
// DER-level mutations over a tree of the token's TLVs

type Node = { tag: number; children: Node[] } | { tag: number; content: Uint8Array };

/** Tags whose contents are more TLVs: constructed ones (bit 6). OCTET STRING contents stay bytes. */
function parseTree(bytes: Uint8Array, start: number, end: number): Node[] {
  const nodes: Node[] = [];
  for (let at = start; at < end;) {
    const tlv = readTlv(bytes, at, end);
    nodes.push(
      (tlv.tag & 0x20) !== 0
        ? { tag: tlv.tag, children: parseTree(bytes, tlv.contentStart, tlv.end) }
        : { tag: tlv.tag, content: bytes.slice(tlv.contentStart, tlv.end) },
    );
    at = tlv.end;
  }
  return nodes;
}

/** How one node's header is written: DER's, or one of the forms DER forbids. */
type HeaderForm = 'der' | 'indefinite' | 'non-minimal' | 'high-tag';

function lengthOctets(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

function serialize(node: Node, forms: Map<Node, HeaderForm>): Uint8Array {
  const content = 'children' in node ? concatBytes(...node.children.map((c) => serialize(c, forms))) : node.content;
  const form = forms.get(node) ?? 'der';
  if (form === 'indefinite') return concatBytes(Uint8Array.of(node.tag, 0x80), content, Uint8Array.of(0, 0));
  if (form === 'non-minimal')
    return concatBytes(
      Uint8Array.of(node.tag),
      content.length < 0x80 ? Uint8Array.of(0x81, content.length) : Uint8Array.of(0x84, 0, ...lengthOctets(content.length).subarray(1).slice(-3)),
      content,
    );
  if (form === 'high-tag') return concatBytes(Uint8Array.of(node.tag | 0x1f, node.tag & 0x1f), lengthOctets(content.length), content);
  return concatBytes(Uint8Array.of(node.tag), lengthOctets(content.length), content);
}

function allNodes(nodes: Node[], parent: Node | null, out: Array<{ node: Node; parent: Node | null }> = []): Array<{ node: Node; parent: Node | null }> {
  for (const node of nodes) {
    out.push({ node, parent });
    if ('children' in node) allNodes(node.children, node, out);
  }
  return out;
}

/**
 * One DER-level change of a valid token. `expected` when the change decides the answer: a header
 * DER forbids is always SEC_E_INVALID_TOKEN; an extension field added to NegTokenInit's or
 * NegTokenResp's SEQUENCE changes nothing (`valid` is what the unchanged token gets).
 */
function derMutation(rng: Rng, bytes: Uint8Array, valid: Status | undefined): { bytes: Uint8Array; mutation: string; expected?: Status } {
  let tree: Node[];
  try {
    tree = parseTree(bytes, 0, bytes.length);
  } catch (error) {
    if (error instanceof DerError) return { bytes, mutation: 'der: (not DER)' };
    throw error;
  }
  const nodes = allNodes(tree, null);
  const { node, parent } = rng.pick(nodes);
  const forms = new Map<Node, HeaderForm>();
  const kind = rng.weighted<string>([
    [3, 'indefinite'],
    [3, 'non-minimal'],
    [1, 'high-tag'],
    [3, 'tag'],
    [2, 'repeat'],
    [2, 'swap'],
    [2, 'drop'],
    [1, 'empty'],
    [2, 'extension'],
  ]);
  const tag = `tag 0x${node.tag.toString(16)}`;
  const siblings = parent !== null && 'children' in parent ? parent.children : tree;
  switch (kind) {
    case 'indefinite':
    case 'non-minimal':
    case 'high-tag':
      forms.set(node, kind);
      return { bytes: concatBytes(...tree.map((n) => serialize(n, forms))), mutation: `der: ${kind} header on ${tag}`, expected: SEC_E_INVALID_TOKEN };
    case 'tag': {
      const to = rng.pick([0x04, 0x06, 0x0a, 0x30, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0x60, 0x05, 0x1b]);
      node.tag = to;
      return { bytes: concatBytes(...tree.map((n) => serialize(n, forms))), mutation: `der: ${tag} made 0x${to.toString(16)}` };
    }
    case 'repeat':
      siblings.splice(siblings.indexOf(node), 0, node);
      return { bytes: concatBytes(...tree.map((n) => serialize(n, forms))), mutation: `der: ${tag} repeated` };
    case 'swap': {
      const i = siblings.indexOf(node);
      if (i + 1 < siblings.length) [siblings[i], siblings[i + 1]] = [siblings[i + 1]!, siblings[i]!];
      return { bytes: concatBytes(...tree.map((n) => serialize(n, forms))), mutation: `der: ${tag} swapped with the next` };
    }
    case 'drop':
      siblings.splice(siblings.indexOf(node), 1);
      return { bytes: concatBytes(...tree.map((n) => serialize(n, forms))), mutation: `der: ${tag} dropped` };
    case 'empty':
      if ('children' in node) node.children = [];
      else node.content = new Uint8Array(0);
      return { bytes: concatBytes(...tree.map((n) => serialize(n, forms))), mutation: `der: ${tag} emptied` };
    default: {
      // An extension field [n] past the last known one, in the top SEQUENCE of the NegotiationToken.
      const top = findTopSequence(tree);
      if (top === undefined) return { bytes, mutation: 'der: (no SEQUENCE to extend)' };
      const n = rng.range(5, 30);
      top.children.push({ tag: 0xa0 | n, children: [{ tag: 0x05, content: new Uint8Array(0) }] });
      const out = { bytes: concatBytes(...tree.map((x) => serialize(x, forms))), mutation: `der: extension field [${n}] added` };
      return valid === undefined ? out : { ...out, expected: valid };
    }
  }
}

/** The SEQUENCE of NegTokenInit or NegTokenResp: inside [0]/[1], itself inside [APPLICATION 0] or not. */
function findTopSequence(tree: Node[]): { tag: number; children: Node[] } | undefined {
  let choice = tree[0];
  if (choice !== undefined && choice.tag === 0x60 && 'children' in choice) choice = choice.children[1];
  const sequence = choice !== undefined && 'children' in choice ? choice.children[0] : undefined;
  return sequence !== undefined && sequence.tag === 0x30 && 'children' in sequence ? sequence : undefined;
}

/** The SPNEGO-level strategies every generator shares after its own: DER, bytes, noise. */
function lowLevel(rng: Rng, base: Uint8Array, other: Uint8Array, valid: Status | undefined): TokenVariant {
  const strategy = rng.weighted<string>([
    [4, 'der'],
    [4, 'bytes'],
    [1, 'noise'],
  ]);
  if (strategy === 'der') {
    const m = derMutation(rng, base, valid);
    return m.expected === undefined ? { bytes: m.bytes, mutation: m.mutation, strategy } : { ...m, strategy };
  }
  if (strategy === 'noise') return { ...noise(rng, Uint8Array.of(rng.pick([0x60, 0xa0, 0xa1])), 512), strategy };
  return { ...anyByteMutation(rng, base, other, NEGOTIATE_MAX_TOKEN), strategy };
}

function mechTypes(rng: Rng): { list: string[]; ntlmFirst: boolean; hasNtlm: boolean } {
  const kind = rng.weighted<string>([
    [3, 'ntlm'],
    [2, 'ntlm-later'],
    [1, 'none'],
    [1, 'empty'],
    [1, 'many'],
  ]);
  const others = Array.from({ length: rng.range(1, 4) }, () => rng.pick(OTHER_OIDS));
  switch (kind) {
    case 'ntlm':
      return { list: [MECH_OID.NTLMSSP, ...(rng.chance(0.5) ? others : [])], ntlmFirst: true, hasNtlm: true };
    case 'ntlm-later':
      return { list: [...others, MECH_OID.NTLMSSP], ntlmFirst: false, hasNtlm: true };
    case 'none':
      return { list: others, ntlmFirst: false, hasNtlm: false };
    case 'empty':
      return { list: [], ntlmFirst: false, hasNtlm: false };
    default: {
      // Around the most a list may hold (MAX_MECH_TYPES), and far past it.
      const count = rng.pick([MAX_MECH_TYPES - 1, MAX_MECH_TYPES + 1, 100, 300, 1000]);
      const list = Array.from({ length: count }, (_, i) => `1.2.840.${i + 1}`);
      if (rng.chance(0.5)) list.push(MECH_OID.NTLMSSP);
      return { list, ntlmFirst: false, hasNtlm: list.includes(MECH_OID.NTLMSSP) };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// negotiate/init

function initVariant(rng: Rng, base: Captured): TokenVariant {
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [1, 'raw'],
    [4, 'packed'],
    [6, 'low'],
  ]);
  switch (strategy) {
    case 'valid':
      return { bytes: base.init, mutation: 'the captured NegTokenInit', strategy, expected: SEC_I_CONTINUE_NEEDED };
    case 'raw':
      return { bytes: base.negotiate, mutation: 'the captured NEGOTIATE_MESSAGE, raw (a client that skips SPNEGO)', strategy, expected: SEC_I_CONTINUE_NEEDED };
    case 'packed': {
      const list = mechTypes(rng);
      const token = rng.weighted<() => { bytes?: Uint8Array; how: string; good: boolean }>([
        [3, () => ({ bytes: base.negotiate, how: 'the captured NEGOTIATE', good: true })],
        [1, () => ({ how: 'no mechToken', good: true })],
        [2, () => ({ ...anyByteMutation(rng, base.negotiate, base.challenge, 2888), how: 'a mutated NEGOTIATE', good: false })],
        [1, () => ({ bytes: rng.bytes(rng.length(128)), how: 'random bytes', good: false })],
      ])();
      const hints = rng.chance(0.2);
      const reqFlags = rng.chance(0.2) ? { bytes: Uint8Array.of(rng.int(256) & 0xfe), unusedBits: 1 } : undefined;
      const mic = rng.chance(0.15) ? rng.bytes(rng.pick([0, 16, 17, 100])) : undefined;
      const bytes = packNegTokenInit({
        mechTypes: list.list,
        ...(token.bytes === undefined ? {} : { mechToken: token.bytes }),
        ...(hints ? { negHints: { hintName: rng.chance(0.5) ? WINDOWS_HINT_NAME : 'x'.repeat(rng.length(300)) } } : {}),
        ...(reqFlags === undefined ? {} : { reqFlags }),
        ...(mic === undefined ? {} : { mechListMIC: mic }),
      });
      const mutation = `packNegTokenInit${hints ? '2' : ''}: ${list.list.length} mechanisms${list.ntlmFirst ? ', NTLM first' : list.hasNtlm ? ', NTLM later' : ', no NTLM'}; ${token.how}${mic === undefined ? '' : '; a mechListMIC'}`;
      // Without NTLM there is nothing to negotiate, nor in a list past MAX_MECH_TYPES; NTLM chosen with the captured token, or with none yet, continues.
      const expected =
        !list.hasNtlm || list.list.length > MAX_MECH_TYPES
          ? SEC_E_INVALID_TOKEN
          : (list.ntlmFirst && token.good) || !list.ntlmFirst
            ? SEC_I_CONTINUE_NEEDED
            : undefined;
      return { bytes, mutation, strategy, ...(expected === undefined || mic !== undefined ? {} : { expected }) };
    }
    default:
      return lowLevel(rng, base.init, base.challengeResp, SEC_I_CONTINUE_NEEDED);
  }
}

async function initInput(env: FuzzEnv, base: Captured, rng: Rng, trial: Trial): Promise<void> {
  const leg: Leg = { fn: 'AcceptSecurityContext', what: 'a NegTokenInit with NTLM', bindings: () => rng.bytes(rng.length(64)) };
  await feedVariant(env, rng, trial, leg, initVariant(rng, base));
}

// ---------------------------------------------------------------------------------------------
// negotiate/challenge

function negStateVariant(rng: Rng): NegState | undefined {
  return rng.weighted<NegState | undefined>([
    [4, NEG_STATE.ACCEPT_INCOMPLETE],
    [1, undefined],
    [1, NEG_STATE.ACCEPT_COMPLETED],
    [1, NEG_STATE.REJECT],
    [1, NEG_STATE.REQUEST_MIC],
  ]);
}

function challengeVariant(rng: Rng, base: Captured): TokenVariant {
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [4, 'packed'],
    [6, 'low'],
  ]);
  if (strategy === 'valid')
    return { bytes: base.challengeResp, mutation: "the captured NegTokenResp with the server's CHALLENGE", strategy, expected: SEC_I_CONTINUE_NEEDED };
  if (strategy !== 'packed') return lowLevel(rng, base.challengeResp, base.init, SEC_I_CONTINUE_NEEDED);
  const negState = negStateVariant(rng);
  const supportedMech = rng.weighted<string | undefined>([
    [4, MECH_OID.NTLMSSP],
    [1, undefined],
    [1, rng.pick(OTHER_OIDS)],
  ]);
  const tokenKind = rng.weighted<string>([
    [3, 'captured'],
    [2, 'mutated'],
    [1, 'none'],
  ]);
  const responseToken =
    tokenKind === 'captured' ? base.challenge : tokenKind === 'mutated' ? anyByteMutation(rng, base.challenge, base.authenticate, 2888).bytes : undefined;
  const mic = rng.weighted<Uint8Array | undefined>([
    [4, undefined],
    [1, rng.bytes(16)],
    [1, responseToken],
  ]);
  const bytes = packNegTokenResp({
    ...(negState === undefined ? {} : { negState }),
    ...(supportedMech === undefined ? {} : { supportedMech }),
    ...(responseToken === undefined ? {} : { responseToken }),
    ...(mic === undefined ? {} : { mechListMIC: mic }),
  });
  const mutation = `packNegTokenResp: negState ${negState ?? 'none'}, supportedMech ${supportedMech ?? 'none'}, ${tokenKind} CHALLENGE${mic === undefined ? '' : mic === responseToken ? ', mechListMIC repeating it' : ', a mechListMIC'}`;
  let expected: Status | undefined;
  if (negState === NEG_STATE.REJECT) expected = SEC_E_LOGON_DENIED;
  else if (supportedMech !== undefined && supportedMech !== MECH_OID.NTLMSSP) expected = SEC_E_INVALID_TOKEN;
  else if (negState === NEG_STATE.ACCEPT_COMPLETED || tokenKind === 'none') expected = SEC_E_INVALID_TOKEN;
  else if (tokenKind === 'captured') expected = SEC_I_CONTINUE_NEEDED;
  return expected === undefined ? { bytes, mutation, strategy } : { bytes, mutation, strategy, expected };
}

async function challengeInput(env: FuzzEnv, base: Captured, rng: Rng, trial: Trial): Promise<void> {
  const variant = challengeVariant(rng, base);
  const first = await firstLeg(env, trial, 'InitializeSecurityContext', await firstClientLeg(env), new Uint8Array(0), 'first InitializeSecurityContext');
  if (first === undefined) return;
  const leg: Leg = {
    fn: 'InitializeSecurityContext',
    context: first.context,
    what: "the acceptor's NegTokenResp with its CHALLENGE",
    bindings: () => rng.bytes(rng.length(64)),
  };
  await feedVariant(env, rng, trial, leg, variant);
}

// ---------------------------------------------------------------------------------------------
// negotiate/authenticate

function authenticateVariant(rng: Rng, base: Captured): TokenVariant {
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [5, 'mic'],
    [2, 'packed'],
    [6, 'low'],
  ]);
  const captured = resp(base.authenticateResp);
  if (strategy === 'valid')
    return { bytes: base.authenticateResp, mutation: 'the captured NegTokenResp with AUTHENTICATE and mechListMIC', strategy, expected: SEC_E_OK };
  if (strategy === 'low') return lowLevel(rng, base.authenticateResp, base.challengeResp, SEC_E_OK);
  if (strategy === 'mic') {
    const fields = strip(captured);
    const mic = captured.mechListMIC!;
    const kind = rng.pick(['missing', 'flipped', 'cut', 'extended', 'response-token', 'zero', 'server-side'] as const);
    const changed = Uint8Array.from(mic);
    changed[rng.int(16)]! ^= 1 << rng.int(8);
    const variants: Record<typeof kind, [Uint8Array | undefined, Status]> = {
      missing: [undefined, SEC_E_INVALID_TOKEN],
      flipped: [changed, SEC_E_MESSAGE_ALTERED],
      cut: [mic.subarray(0, rng.int(16)), SEC_E_MESSAGE_ALTERED],
      extended: [concatBytes(mic, rng.bytes(rng.range(1, 16))), SEC_E_MESSAGE_ALTERED],
      // An old peer's copy of the response token is no MIC: the required one is then missing.
      'response-token': [captured.responseToken!, SEC_E_INVALID_TOKEN],
      zero: [new Uint8Array(16), SEC_E_MESSAGE_ALTERED],
      'server-side': [resp(base.finalResp).mechListMIC!, SEC_E_MESSAGE_ALTERED],
    };
    const [value, expected] = variants[kind];
    const { mechListMIC: _mic, ...rest } = fields;
    return {
      bytes: packNegTokenResp({ ...rest, ...(value === undefined ? {} : { mechListMIC: value }) }),
      mutation: `mechListMIC ${kind}`,
      strategy,
      expected,
    };
  }
  const negState = negStateVariant(rng);
  const tokenKind = rng.weighted<string>([
    [2, 'captured'],
    [3, 'mutated'],
    [1, 'none'],
  ]);
  const responseToken =
    tokenKind === 'captured' ? base.authenticate : tokenKind === 'mutated' ? anyByteMutation(rng, base.authenticate, base.challenge, 2888).bytes : undefined;
  const bytes = packNegTokenResp({
    ...(negState === undefined ? {} : { negState }),
    ...(rng.chance(0.2) ? { supportedMech: rng.pick([MECH_OID.NTLMSSP, ...OTHER_OIDS]) } : {}),
    ...(responseToken === undefined ? {} : { responseToken }),
    mechListMIC: captured.mechListMIC!,
  });
  const expected = negState === NEG_STATE.REJECT ? SEC_E_LOGON_DENIED : tokenKind === 'captured' ? SEC_E_OK : undefined;
  return {
    bytes,
    mutation: `packNegTokenResp: negState ${negState ?? 'none'}, ${tokenKind} AUTHENTICATE, the captured mechListMIC`,
    strategy,
    ...(expected === undefined ? {} : { expected }),
  };
}

async function authenticateInput(env: FuzzEnv, base: Captured, rng: Rng, trial: Trial): Promise<void> {
  const variant = authenticateVariant(rng, base);
  const accepted = await env.sspi.acceptSecurityContext({ credential: env.serverCredential, input: tokenBuffer(base.init), contextReq: SERVER_REQ });
  const first = await firstLeg(env, trial, 'AcceptSecurityContext', accepted, base.init, 'first AcceptSecurityContext with the captured NegTokenInit');
  if (first === undefined) return;
  const leg: Leg = {
    fn: 'AcceptSecurityContext',
    context: first.context,
    what: "the initiator's NegTokenResp with AUTHENTICATE and mechListMIC",
    bindings: () => rng.bytes(rng.length(64)),
  };
  await feedVariant(env, rng, trial, leg, variant);
}

// ---------------------------------------------------------------------------------------------
// negotiate/final

/**
 * The server's mechListMIC for the client context that sent `authenticate`: its exported session
 * key recovered with the password (NTLMv2: SessionBaseKey = HMAC_MD5(NTOWFv2, NTProofStr), the
 * key exchange undone), then MakeSignature of the MechTypeList as the server's first message.
 */
function serverMic(base: Captured, authenticate: Uint8Array): Uint8Array {
  const message = unpackAuthenticate(authenticate);
  const responseKeyNT = ntowfv2FromNtHash(base.ntHash, message.userName, message.domainName);
  const sessionBaseKey = hmacMd5(responseKeyNT, message.ntChallengeResponse.subarray(0, 16));
  const flags = (message.flags & base.offered) >>> 0;
  const exportedSessionKey =
    message.encryptedRandomSessionKey.length === 16
      ? encryptRandomSessionKey(kxkeyV2(sessionBaseKey), message.encryptedRandomSessionKey)
      : kxkeyV2(sessionBaseKey);
  const server = NtlmSecurityContext.fromSessionKey({ flags, exportedSessionKey, side: 'server' });
  try {
    return server.sign(base.mechList);
  } finally {
    server.wipe();
  }
}

function finalVariant(rng: Rng, base: Captured, mic: Uint8Array): TokenVariant {
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [5, 'mic'],
    [2, 'packed'],
    [5, 'low'],
  ]);
  const good = packNegTokenResp({ negState: NEG_STATE.ACCEPT_COMPLETED, mechListMIC: mic });
  if (strategy === 'valid') return { bytes: good, mutation: "the server's last NegTokenResp, its mechListMIC forged right", strategy, expected: SEC_E_OK };
  if (strategy === 'low') return lowLevel(rng, good, base.challengeResp, SEC_E_OK);
  if (strategy === 'mic') {
    const changed = Uint8Array.from(mic);
    changed[rng.int(16)]! ^= 1 << rng.int(8);
    const kind = rng.pick(['missing', 'flipped', 'cut', 'captured', 'client-side'] as const);
    const variants: Record<typeof kind, [Uint8Array | undefined, Status]> = {
      missing: [undefined, SEC_E_INVALID_TOKEN],
      flipped: [changed, SEC_E_MESSAGE_ALTERED],
      cut: [mic.subarray(0, rng.int(16)), SEC_E_MESSAGE_ALTERED],
      // Another session's, and the client's own direction: both wrong for this context.
      captured: [resp(base.finalResp).mechListMIC!, SEC_E_MESSAGE_ALTERED],
      'client-side': [resp(base.authenticateResp).mechListMIC!, SEC_E_MESSAGE_ALTERED],
    };
    const [value, expected] = variants[kind];
    return {
      bytes: packNegTokenResp({ negState: NEG_STATE.ACCEPT_COMPLETED, ...(value === undefined ? {} : { mechListMIC: value }) }),
      mutation: `mechListMIC ${kind}`,
      strategy,
      expected,
    };
  }
  const negState = negStateVariant(rng);
  // Not empty: an empty responseToken is no token (Negotiate reads it as absent).
  const extraToken = rng.chance(0.3) ? rng.bytes(rng.range(1, 64)) : undefined;
  const bytes = packNegTokenResp({
    ...(negState === undefined ? {} : { negState }),
    ...(rng.chance(0.2) ? { supportedMech: rng.pick([MECH_OID.NTLMSSP, ...OTHER_OIDS]) } : {}),
    ...(extraToken === undefined ? {} : { responseToken: extraToken }),
    mechListMIC: mic,
  });
  const expected =
    negState === NEG_STATE.REJECT ? SEC_E_LOGON_DENIED : negState !== NEG_STATE.ACCEPT_COMPLETED || extraToken !== undefined ? SEC_E_INVALID_TOKEN : undefined;
  return {
    bytes,
    mutation: `packNegTokenResp: negState ${negState ?? 'none'}${extraToken === undefined ? '' : ', a responseToken'}, the right mechListMIC`,
    strategy,
    ...(expected === undefined ? {} : { expected }),
  };
}

async function finalInput(env: FuzzEnv, base: Captured, rng: Rng, trial: Trial): Promise<void> {
  const first = await firstLeg(env, trial, 'InitializeSecurityContext', await firstClientLeg(env), new Uint8Array(0), 'first InitializeSecurityContext');
  if (first === undefined) return;
  const second = await env.sspi.initializeSecurityContext({
    credential: env.clientCredential,
    context: first.context,
    contextReq: CLIENT_REQ,
    input: tokenBuffer(base.challengeResp),
  });
  const sent = outputToken(second);
  if (second.status !== SEC_I_CONTINUE_NEEDED || sent === undefined) {
    trial.hostile('setup', base.challengeResp, 'second InitializeSecurityContext with the captured CHALLENGE');
    trial.record('InitializeSecurityContext', second);
    trial.expectStatus(second.status, SEC_I_CONTINUE_NEEDED, 'the second InitializeSecurityContext');
    await dropContext(env.sspi, first.context, trial.violations, 'the client context');
    return;
  }
  const mic = serverMic(base, resp(sent).responseToken!);
  const leg: Leg = {
    fn: 'InitializeSecurityContext',
    context: first.context,
    what: "the acceptor's last NegTokenResp",
    bindings: () => rng.bytes(rng.length(64)),
  };
  await feedVariant(env, rng, trial, leg, finalVariant(rng, base, mic));
}

export const NEGOTIATE_TOKEN_GENERATORS: readonly GeneratorSpec[] = tokenGenerators('negotiate', capture, [
  { name: 'negotiate/init', fn: 'AcceptSecurityContext', describe: 'NegTokenInit(2) variants and raw NTLMSSP to a new server context', run: initInput },
  {
    name: 'negotiate/challenge',
    fn: 'InitializeSecurityContext',
    describe: "the acceptor's first NegTokenResp (CHALLENGE) to a client context that sent NegTokenInit",
    run: challengeInput,
  },
  {
    name: 'negotiate/authenticate',
    fn: 'AcceptSecurityContext',
    describe: "the initiator's NegTokenResp (AUTHENTICATE, mechListMIC right, wrong or missing) to a server context that sent CHALLENGE",
    run: authenticateInput,
  },
  {
    name: 'negotiate/final',
    fn: 'InitializeSecurityContext',
    describe: "the acceptor's last NegTokenResp (mechListMIC forged right, wrong or missing) to a client context that sent AUTHENTICATE",
    run: finalInput,
  },
]);

/** Kept for the unit tests of the DER mutations. */
export { derMutation, parseTree };
