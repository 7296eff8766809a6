// Structure-aware generators for the Kerberos package (RFC 4120, RFC 4121), each fed to the real
// runtime at the point that reads it, with the fuzz run's domain controller machine as the KDC
// (fuzz/runner.ts boots it):
//
//   kerberos/ap-req       AP-REQ, GSS-framed or raw      -> AcceptSecurityContext, first call
//   kerberos/ap-rep       AP-REP or KRB-ERROR            -> InitializeSecurityContext, second call (mutual authentication)
//   kerberos/kdc-request  AS-REQ and TGS-REQ bytes       -> the DC's KDC, over UDP and TCP (lying length prefixes too)
//
// The AP generators start from a fresh token of a real handshake for every input: the client's
// InitializeSecurityContext makes a new authenticator each time (its service ticket is cached, so
// no KDC traffic), and the acceptor's replay cache would refuse a captured one. The variants are
// made with the package's own message codec: fields changed (APOptions, the ticket's realm, name,
// etype, kvno and ciphertext, the authenticator's etype, kvno and ciphertext, the AP-REP's), parts
// of another session spliced in, the GSS framing (raw, Microsoft's OID, wrong TOK_ID, trailing
// bytes), KRB-ERRORs with any code; then DER-level changes over the token's TLVs (fuzz/negotiate.ts:
// a header DER forbids must be SEC_E_INVALID_TOKEN), byte mutations and random DER. A variant whose
// authenticated bytes were altered must never be accepted.

import { connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import {
  ASC_REQ,
  ISC_REQ,
  SECBUFFER,
  SEC_E_INVALID_TOKEN,
  SEC_E_OK,
  SEC_E_UNSUPPORTED_FUNCTION,
  SEC_I_CONTINUE_NEEDED,
  statusName,
  type SecBuffer,
} from '../headers/index.js';
import {
  GSS_KRB5_TOK_ID,
  GSS_MS_KRB5_MECH_OID,
  KRB_ERROR_CODE,
  KRB_MSG_TYPE,
  KRB_NT,
  krbErrorName,
  packApRep,
  packApReq,
  packGssKrb5Token,
  packKdcReq,
  packKrbError,
  PA_TYPE,
  unpackApRep,
  unpackApReq,
  unpackGssKrb5Token,
  unpackKerberosMessage,
  type ApReq,
  type EncryptedData,
  type KdcReq,
} from '../packages/kerberos/messages/index.js';
import { anyByteMutation, concatBytes, noise } from './bytes.js';
import { CLIENT_REQ, dropContext, handshake, outputToken, SERVER_REQ, tokenBuffer, type FuzzEnv, type GeneratorSpec, type Trial } from './generator.js';
import type { FuzzKdc } from './kerberos-domain.js';
import { derMutation } from './negotiate.js';
import type { Rng } from './rng.js';
import { feedVariant, tokenGenerators, type Leg, type TokenVariant } from './token-leg.js';

/** The largest token the generators build (Kerberos' cbMaxToken is larger; a ticket is small here). */
const MAX_TOKEN = 12_000;
const TARGET = 'HTTP/fuzz.sspi-emu.local';
const MUTUAL_REQ = CLIENT_REQ | ISC_REQ.MUTUAL_AUTH;

/** A token variant that, besides any expected status, must never be accepted (its authenticated bytes were altered). */
interface KerberosVariant extends TokenVariant {
  refuse?: boolean;
}

/** What the AP generators keep of one real handshake of the batch: tokens of another session, for splicing. */
interface Captured {
  apReq: ApReq;
  apRep: Uint8Array;
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const content = concatBytes(...parts);
  const n = content.length;
  const length =
    n < 0x80
      ? Uint8Array.of(n)
      : n < 0x100
        ? Uint8Array.of(0x81, n)
        : n < 0x10000
          ? Uint8Array.of(0x82, n >> 8, n & 0xff)
          : Uint8Array.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
  return concatBytes(Uint8Array.of(tag), length, content);
}

/** The GSS framing with any OID bytes and any TOK_ID, for the framings the packer refuses to make. */
function frame(oid: Uint8Array, tokId: number, message: Uint8Array): Uint8Array {
  return tlv(0x60, tlv(0x06, oid), Uint8Array.of(tokId >> 8, tokId & 0xff), message);
}

/** DER of 1.2.840.113554.1.2.2 (Kerberos 5). */
const KRB5_OID_BYTES = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02);

const ETYPES: readonly number[] = [0, 1, 3, 16, 17, 18, 19, 20, 23, 24, 25, 26, -1, -128, 0x7fffffff, -0x80000000];
const KVNOS: readonly number[] = [0, 1, 2, 255, 256, 0x7fffffff, 0xffffffff];

function flipOne(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  if (out.length > 0) out[rng.int(out.length)]! ^= 1 << rng.int(8);
  return out;
}

/** A changed ciphertext, and whether the change must make it fail to decrypt (any change does: it is authenticated). */
function cipherVariant(rng: Rng, cipher: Uint8Array): { cipher: Uint8Array; how: string } {
  const kind = rng.pick(['flip', 'cut', 'extend', 'empty', 'zero', 'short'] as const);
  switch (kind) {
    case 'flip':
      return { cipher: flipOne(rng, cipher), how: 'one bit flipped' };
    case 'cut':
      return { cipher: cipher.subarray(0, rng.int(cipher.length)), how: 'cut' };
    case 'extend':
      return { cipher: concatBytes(cipher, rng.bytes(rng.range(1, 64))), how: 'extended' };
    case 'empty':
      return { cipher: new Uint8Array(0), how: 'empty' };
    case 'zero':
      return { cipher: new Uint8Array(cipher.length), how: 'zeroed' };
    default:
      return { cipher: rng.bytes(rng.range(1, 44)), how: 'shorter than a confounder and checksum' };
  }
}

/** A field of an EncryptedData changed: etype, kvno (added, changed, removed) or the ciphertext. */
function encryptedVariant(rng: Rng, data: EncryptedData, what: string): { data: EncryptedData; how: string; altered: boolean } {
  const kind = rng.pick(['etype', 'kvno', 'cipher', 'cipher'] as const);
  if (kind === 'etype') {
    const etype = rng.pick(ETYPES.filter((e) => e !== data.etype));
    return { data: { ...data, etype }, how: `${what} etype ${etype}`, altered: true };
  }
  if (kind === 'kvno') {
    if (data.kvno !== undefined && rng.chance(0.3)) {
      const { kvno: _kvno, ...rest } = data;
      return { data: rest, how: `${what} kvno removed`, altered: false };
    }
    const kvno = rng.pick(KVNOS);
    // A kvno is a hint for which key to use; the acceptor may ignore it (MIT tries every key it has).
    return { data: { ...data, kvno }, how: `${what} kvno ${kvno}`, altered: false };
  }
  const c = cipherVariant(rng, data.cipher);
  return { data: { ...data, cipher: c.cipher }, how: `${what} ciphertext ${c.how}`, altered: true };
}

/** Random DER: a tree of TLVs with Kerberos' tags. */
function randomDer(rng: Rng, depth = 0): Uint8Array {
  const tags = [0x30, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0x02, 0x04, 0x1b, 0x18, 0x03, 0x6e, 0x6f, 0x7e, 0x61, 0x6a, 0x6c];
  const tag = rng.pick(tags);
  if ((tag & 0x20) !== 0 && depth < 6) return tlv(tag, ...Array.from({ length: rng.range(0, 4) }, () => randomDer(rng, depth + 1)));
  return tlv(tag & ~0x20, rng.bytes(rng.length(24)));
}

/** The DER-level, byte-level and noise strategies every AP generator ends with. */
function lowLevel(rng: Rng, token: Uint8Array, other: Uint8Array): KerberosVariant {
  const strategy = rng.weighted<string>([
    [4, 'der'],
    [4, 'bytes'],
    [1, 'noise'],
    [1, 'random-der'],
  ]);
  if (strategy === 'der') {
    const m = derMutation(rng, token, undefined);
    return m.expected === undefined
      ? { bytes: m.bytes, mutation: m.mutation, strategy }
      : { bytes: m.bytes, mutation: m.mutation, strategy, expected: m.expected };
  }
  if (strategy === 'noise') return { ...noise(rng, Uint8Array.of(rng.pick([0x60, 0x6e, 0x6f, 0x7e])), 512), strategy };
  if (strategy === 'random-der') {
    const inner = randomDer(rng);
    return { bytes: rng.chance(0.5) ? frame(KRB5_OID_BYTES, rng.pick([0x0100, 0x0200, 0x0300]), inner) : inner, mutation: 'random DER', strategy };
  }
  // A byte may land in unauthenticated DER (a tag the reader is lenient about, say) as well as in a
  // ciphertext: the generator cannot tell which, so it sets no expectation here.
  return { ...anyByteMutation(rng, token, other, MAX_TOKEN), strategy };
}

// ---------------------------------------------------------------------------------------------
// kerberos/ap-req

async function capture(env: FuzzEnv): Promise<Captured> {
  const problems: string[] = [];
  const c1 = await env.sspi.initializeSecurityContext({ credential: env.clientCredential, contextReq: MUTUAL_REQ, targetName: TARGET });
  const apReqToken = outputToken(c1);
  if (apReqToken === undefined) throw new Error(`the captured handshake's first InitializeSecurityContext answered ${statusName(c1.status)} and no token`);
  const s1 = await env.sspi.acceptSecurityContext({ credential: env.serverCredential, input: tokenBuffer(apReqToken), contextReq: SERVER_REQ });
  const apRepToken = outputToken(s1);
  await dropContext(env.sspi, c1.context, problems, 'client');
  await dropContext(env.sspi, s1.context, problems, 'server');
  if (apRepToken === undefined || problems.length > 0) throw new Error(`the captured handshake failed: ${statusName(s1.status)} ${problems.join('; ')}`);
  return { apReq: unpackApReq(unpackGssKrb5Token(apReqToken).message), apRep: apRepToken };
}

/** A fresh AP-REQ: the client's first call with mutual authentication. Undefined (and the setup recorded) when it fails. */
async function freshApReq(
  env: FuzzEnv,
  trial: Trial,
  req = MUTUAL_REQ,
): Promise<{ context: NonNullable<Awaited<ReturnType<FuzzEnv['sspi']['initializeSecurityContext']>>['context']>; token: Uint8Array } | undefined> {
  const c = await env.sspi.initializeSecurityContext({ credential: env.clientCredential, contextReq: req, targetName: TARGET });
  const token = outputToken(c);
  const expected = (req & ISC_REQ.MUTUAL_AUTH) !== 0 ? SEC_I_CONTINUE_NEEDED : SEC_E_OK;
  if (c.status === expected && c.context !== undefined && token !== undefined) return { context: c.context, token };
  trial.hostile('setup', new Uint8Array(0), "the client's first InitializeSecurityContext");
  trial.record('InitializeSecurityContext', c);
  trial.expectStatus(c.status, expected, 'the first InitializeSecurityContext');
  await dropContext(env.sspi, c.context, trial.violations, 'the client context');
  return undefined;
}

function apReqVariant(rng: Rng, token: Uint8Array, base: Captured): KerberosVariant {
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [2, 'framing'],
    [4, 'fields'],
    [1, 'spliced'],
    [5, 'low'],
  ]);
  const gss = unpackGssKrb5Token(token);
  const req = unpackApReq(gss.message);
  if (strategy === 'valid') return { bytes: token, mutation: 'a fresh AP-REQ', strategy, expected: SEC_E_OK };
  if (strategy === 'framing') {
    const kind = rng.pick(['raw', 'ms-oid', 'tok-id', 'trailing', 'other-oid', 'double', 'empty-message'] as const);
    switch (kind) {
      case 'raw':
        return { bytes: gss.message, mutation: 'framing: the AP-REQ without the GSS framing', strategy };
      case 'ms-oid':
        return { bytes: packGssKrb5Token({ ...gss, mech: GSS_MS_KRB5_MECH_OID }), mutation: "framing: Microsoft's Kerberos OID", strategy };
      case 'tok-id': {
        const tokId = rng.pick([0x0200, 0x0300, 0x0101, 0x0000, 0xffff, 0x0401, 0x0504]);
        return {
          bytes: frame(KRB5_OID_BYTES, tokId, gss.message),
          mutation: `framing: TOK_ID 0x${tokId.toString(16).padStart(4, '0')}`,
          strategy,
          expected: SEC_E_INVALID_TOKEN,
        };
      }
      case 'trailing':
        return {
          bytes: frame(KRB5_OID_BYTES, GSS_KRB5_TOK_ID.AP_REQ, concatBytes(gss.message, rng.bytes(rng.range(1, 16)))),
          mutation: 'framing: bytes after the AP-REQ',
          strategy,
          expected: SEC_E_INVALID_TOKEN,
        };
      case 'other-oid':
        return {
          bytes: frame(Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a), GSS_KRB5_TOK_ID.AP_REQ, gss.message),
          mutation: "framing: NTLMSSP's OID",
          strategy,
          expected: SEC_E_INVALID_TOKEN,
        };
      case 'double':
        return {
          bytes: frame(KRB5_OID_BYTES, GSS_KRB5_TOK_ID.AP_REQ, token),
          mutation: 'framing: the framed token framed again',
          strategy,
          expected: SEC_E_INVALID_TOKEN,
        };
      default:
        return {
          bytes: frame(KRB5_OID_BYTES, GSS_KRB5_TOK_ID.AP_REQ, new Uint8Array(0)),
          mutation: 'framing: no message',
          strategy,
          expected: SEC_E_INVALID_TOKEN,
        };
    }
  }
  if (strategy === 'spliced') {
    // Another session's authenticator with this ticket, or this authenticator with another session's ticket.
    const kind = rng.pick(['old-authenticator', 'old-ticket', 'old-whole'] as const);
    const spliced: ApReq =
      kind === 'old-authenticator'
        ? { ...req, authenticator: base.apReq.authenticator }
        : kind === 'old-ticket'
          ? { ...req, ticket: base.apReq.ticket }
          : base.apReq;
    // The same ticket (the client's cache holds one): an old ticket is this one; the old authenticator is a replay.
    const sameTicket = Buffer.compare(Buffer.from(base.apReq.ticket.encPart.cipher), Buffer.from(req.ticket.encPart.cipher)) === 0;
    return {
      bytes: packGssKrb5Token({ ...gss, message: packApReq(spliced) }),
      mutation: `spliced: ${kind}${sameTicket ? ' (the same ticket)' : ''}`,
      strategy,
      refuse: kind !== 'old-ticket' || !sameTicket,
    };
  }
  if (strategy === 'fields') {
    const field = rng.pick(['ap-options', 'ticket-enc', 'authenticator', 'realm', 'sname', 'name-type'] as const);
    let changed: ApReq = req;
    let how = '';
    let refuse = false;
    switch (field) {
      case 'ap-options': {
        const apOptions = rng.pick([0, 0x40000000, 0x80000000, 0xffffffff, rng.next()]) >>> 0;
        changed = { ...req, apOptions };
        how = `APOptions 0x${apOptions.toString(16)}`;
        break;
      }
      case 'ticket-enc': {
        const v = encryptedVariant(rng, req.ticket.encPart, "the ticket's enc-part");
        changed = { ...req, ticket: { ...req.ticket, encPart: v.data } };
        how = v.how;
        refuse = v.altered;
        break;
      }
      case 'authenticator': {
        const v = encryptedVariant(rng, req.authenticator, 'the authenticator');
        changed = { ...req, authenticator: v.data };
        how = v.how;
        refuse = v.altered;
        break;
      }
      case 'realm': {
        const realm = rng.pick(['', 'OTHER.TEST', req.ticket.realm.toLowerCase(), 'A'.repeat(rng.range(200, 3000)), 'FUZZ\u0000.TEST']);
        changed = { ...req, ticket: { ...req.ticket, realm } };
        how = `the ticket's realm ${JSON.stringify(realm.slice(0, 40))}${realm.length > 40 ? `... (${realm.length})` : ''}`;
        // The realm is outside the ticket's ciphertext; a changed one names another service's key.
        break;
      }
      case 'sname': {
        const nameString = rng.pick([
          [],
          ['krbtgt', req.ticket.realm],
          ['HTTP'],
          ['HTTP', 'other.example'],
          Array.from({ length: rng.range(3, 300) }, () => 'x'),
          ['host', 'fuzz.sspi-emu.local'],
        ]);
        changed = { ...req, ticket: { ...req.ticket, sname: { ...req.ticket.sname, nameString } } };
        how = `the ticket's sname ${JSON.stringify(nameString.slice(0, 4))}${nameString.length > 4 ? ` (${nameString.length} parts)` : ''}`;
        break;
      }
      default: {
        const nameType = rng.pick([KRB_NT.UNKNOWN, KRB_NT.PRINCIPAL, KRB_NT.SRV_HST, -1, 0x7fffffff]);
        changed = { ...req, ticket: { ...req.ticket, sname: { ...req.ticket.sname, nameType } } };
        how = `the ticket's sname name-type ${nameType}`;
      }
    }
    let bytes: Uint8Array;
    try {
      bytes = packApReq(changed);
    } catch (error) {
      // The packer refuses what it cannot write (a negative number where it wants an unsigned one): send the field mutation through the DER level instead.
      return { ...lowLevel(rng, token, base.apRep), mutation: `fields: ${how} (not packable: ${(error as Error).message}); then low` };
    }
    const framed = rng.chance(0.8) ? packGssKrb5Token({ ...gss, message: bytes }) : bytes;
    return { bytes: framed, mutation: `fields: ${how}${framed === bytes ? ', unframed' : ''}`, strategy, refuse };
  }
  return lowLevel(rng, token, base.apRep);
}

async function apReqInput(env: FuzzEnv, base: Captured, rng: Rng, trial: Trial): Promise<void> {
  const mutual = rng.chance(0.8);
  const fresh = await freshApReq(env, trial, mutual ? MUTUAL_REQ : CLIENT_REQ);
  if (fresh === undefined) return;
  const problems: string[] = [];
  await dropContext(env.sspi, fresh.context, problems, 'the client context');
  trial.violations.push(...problems);
  const variant = apReqVariant(rng, fresh.token, base);
  const leg: Leg = { fn: 'AcceptSecurityContext', what: 'the AP-REQ', bindings: () => rng.bytes(rng.length(64)) };
  await feedKerberos(env, rng, trial, leg, variant);
}

/**
 * The ASC_REQ_* the package refuses as not implemented, before it reads the token (README, Kerberos:
 * user-to-user, datagram and DCE-style contexts). The call shapes' odd flags (token-leg.ts, one call
 * in twenty, random bits) hit one of them seven times in eight: these are all of Kerberos'
 * SEC_E_UNSUPPORTED_FUNCTION answers.
 */
const NOT_IMPLEMENTED_ASC_REQ = ASC_REQ.USE_SESSION_KEY | ASC_REQ.DATAGRAM | ASC_REQ.USE_DCE_STYLE;

/**
 * feedVariant, then the checks no shape of the call excuses: a token whose authenticated bytes were
 * altered is never accepted; SEC_E_UNSUPPORTED_FUNCTION ("not implemented") answers only an
 * AcceptSecurityContext that asked for a flag not implemented, never an input's bytes (the
 * continuing InitializeSecurityContext checked its flags at its first call). The converse is not
 * checked: Secur32 refuses some odd buffer lists (SEC_E_INVALID_TOKEN) before the package sees the flags.
 */
async function feedKerberos(env: FuzzEnv, rng: Rng, trial: Trial, leg: Leg, variant: KerberosVariant): Promise<void> {
  const contextReq = await feedVariant(env, rng, trial, leg, variant);
  const status = trial.judged?.status;
  if (variant.refuse === true && status !== undefined && (status === SEC_E_OK || status === SEC_I_CONTINUE_NEEDED))
    trial.violations.push(`${leg.what} with its authenticated bytes altered was accepted (${statusName(status)})`);
  const notImplemented = leg.fn === 'AcceptSecurityContext' && (contextReq & NOT_IMPLEMENTED_ASC_REQ) !== 0;
  if (status === SEC_E_UNSUPPORTED_FUNCTION && !notImplemented)
    trial.violations.push(
      `${leg.what} was answered SEC_E_UNSUPPORTED_FUNCTION (not implemented) with ${leg.fn === 'AcceptSecurityContext' ? 'ASC' : 'ISC'}_REQ 0x${(contextReq >>> 0).toString(16)}, no flag that is not implemented`,
    );
}

// ---------------------------------------------------------------------------------------------
// kerberos/ap-rep

const KRB_ERRORS: readonly number[] = Object.values(KRB_ERROR_CODE);

function apRepVariant(rng: Rng, token: Uint8Array, base: Captured): KerberosVariant {
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [2, 'framing'],
    [3, 'fields'],
    [1, 'spliced'],
    [3, 'krb-error'],
    [5, 'low'],
  ]);
  const gss = unpackGssKrb5Token(token);
  const rep = unpackApRep(gss.message);
  if (strategy === 'valid') return { bytes: token, mutation: "the acceptor's AP-REP for this context", strategy, expected: SEC_E_OK };
  if (strategy === 'spliced') return { bytes: base.apRep, mutation: "another session's AP-REP", strategy, refuse: true };
  if (strategy === 'framing') {
    const kind = rng.pick(['raw', 'ms-oid', 'tok-id', 'trailing', 'empty-message'] as const);
    switch (kind) {
      case 'raw':
        return { bytes: gss.message, mutation: 'framing: the AP-REP without the GSS framing', strategy };
      case 'ms-oid':
        return { bytes: packGssKrb5Token({ ...gss, mech: GSS_MS_KRB5_MECH_OID }), mutation: "framing: Microsoft's Kerberos OID", strategy };
      case 'tok-id': {
        const tokId = rng.pick([0x0100, 0x0300, 0x0201, 0x0000, 0xffff]);
        return {
          bytes: frame(KRB5_OID_BYTES, tokId, gss.message),
          mutation: `framing: TOK_ID 0x${tokId.toString(16).padStart(4, '0')}`,
          strategy,
          refuse: true,
        };
      }
      case 'trailing':
        return {
          bytes: frame(KRB5_OID_BYTES, GSS_KRB5_TOK_ID.AP_REP, concatBytes(gss.message, rng.bytes(rng.range(1, 16)))),
          mutation: 'framing: bytes after the AP-REP',
          strategy,
          expected: SEC_E_INVALID_TOKEN,
          refuse: true,
        };
      default:
        return {
          bytes: frame(KRB5_OID_BYTES, GSS_KRB5_TOK_ID.AP_REP, new Uint8Array(0)),
          mutation: 'framing: no message',
          strategy,
          expected: SEC_E_INVALID_TOKEN,
          refuse: true,
        };
    }
  }
  if (strategy === 'fields') {
    const v = encryptedVariant(rng, rep.encPart, "the AP-REP's enc-part");
    let bytes: Uint8Array;
    try {
      bytes = packApRep({ encPart: v.data });
    } catch (error) {
      return { ...lowLevel(rng, token, base.apRep), mutation: `fields: ${v.how} (not packable: ${(error as Error).message}); then low` };
    }
    return { bytes: packGssKrb5Token({ ...gss, message: bytes }), mutation: `fields: ${v.how}`, strategy, refuse: v.altered };
  }
  if (strategy === 'krb-error') {
    const errorCode = rng.chance(0.8) ? rng.pick(KRB_ERRORS) : rng.pick([-1, 0, 99, 0x7fffffff, rng.next() & 0x7fffffff]);
    const now = new Date();
    const error = {
      stime: rng.chance(0.9) ? wholeSeconds(now.getTime()) : new Date(rng.chance(0.5) ? 0 : 253402300799000),
      susec: rng.chance(0.9) ? rng.int(1_000_000) : rng.pick([0, 999999]),
      errorCode,
      realm: rng.chance(0.9) ? 'FUZZ.SSPI-EMU.TEST' : rng.pick(['', 'OTHER.TEST']),
      sname: { nameType: KRB_NT.SRV_HST, nameString: ['HTTP', 'fuzz.sspi-emu.local'] },
      ...(rng.chance(0.3) ? { eText: rng.pick(['', 'x'.repeat(rng.range(1, 4000)), 'error']) } : {}),
      ...(rng.chance(0.3) ? { eData: rng.chance(0.5) ? rng.bytes(rng.length(256)) : randomDer(rng) } : {}),
    };
    let message: Uint8Array;
    try {
      message = packKrbError(error);
    } catch (e) {
      return { ...lowLevel(rng, token, base.apRep), mutation: `krb-error ${errorCode} (not packable: ${(e as Error).message}); then low` };
    }
    const framed = rng.chance(0.8);
    return {
      bytes: framed ? frame(KRB5_OID_BYTES, GSS_KRB5_TOK_ID.KRB_ERROR, message) : message,
      mutation: `krb-error: ${krbErrorName(errorCode)}${framed ? '' : ', unframed'}`,
      strategy,
      refuse: true,
    };
  }
  return lowLevel(rng, token, base.apRep);
}

async function apRepInput(env: FuzzEnv, base: Captured, rng: Rng, trial: Trial): Promise<void> {
  const fresh = await freshApReq(env, trial);
  if (fresh === undefined) return;
  const s = await env.sspi.acceptSecurityContext({ credential: env.serverCredential, input: tokenBuffer(fresh.token), contextReq: SERVER_REQ });
  const apRep = outputToken(s);
  await dropContext(env.sspi, s.context, trial.violations, 'the server context');
  if (s.status !== SEC_E_OK || apRep === undefined) {
    trial.hostile('setup', fresh.token, 'the acceptor of a fresh AP-REQ');
    trial.record('AcceptSecurityContext', s);
    trial.expectStatus(s.status, SEC_E_OK, 'AcceptSecurityContext of a fresh AP-REQ');
    await dropContext(env.sspi, fresh.context, trial.violations, 'the client context');
    return;
  }
  const variant = apRepVariant(rng, apRep, base);
  const leg: Leg = { fn: 'InitializeSecurityContext', context: fresh.context, what: 'the AP-REP', bindings: () => rng.bytes(rng.length(64)) };
  await feedKerberos(env, rng, trial, leg, variant);
}

const AP_GENERATORS: readonly GeneratorSpec[] = tokenGenerators<Captured>('kerberos', capture, [
  {
    name: 'kerberos/ap-req',
    fn: 'AcceptSecurityContext',
    describe:
      'AP-REQ: fresh, framed and raw, fields changed (APOptions, realm, sname, etypes, kvno, ciphertexts), spliced with another session, DER-level, bytes, random DER',
    run: apReqInput,
  },
  {
    name: 'kerberos/ap-rep',
    fn: 'InitializeSecurityContext',
    describe:
      "AP-REP (mutual authentication): this context's, another session's, etype, kvno and ciphertext changed, framings, KRB-ERRORs of every code, DER-level, bytes",
    run: apRepInput,
  },
]);

// ---------------------------------------------------------------------------------------------
// kerberos/kdc-request

/** How long the KDC may take to answer a whole request, or to close a connection its client finished: past it, a hang. */
const KDC_DEADLINE_MS = 10_000;

/** A KerberosTime holds whole seconds. */
function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

function validAsReq(kdc: FuzzKdc, user: string, nonce: number): KdcReq {
  return {
    msgType: KRB_MSG_TYPE.AS_REQ,
    reqBody: {
      kdcOptions: 0x40000000,
      cname: { nameType: KRB_NT.PRINCIPAL, nameString: [user] },
      realm: kdc.realm,
      sname: { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', kdc.realm] },
      till: wholeSeconds(Date.now() + 3600_000),
      nonce,
      etype: [18, 17, 20, 19],
    },
  };
}

function kdcRequestVariant(rng: Rng, kdc: FuzzKdc, user: string, apReq: Uint8Array): { bytes: Uint8Array; mutation: string; strategy: string } {
  const base = validAsReq(kdc, user, rng.next() & 0x7fffffff);
  const tgs = rng.chance(0.4);
  const req: KdcReq = tgs
    ? {
        msgType: KRB_MSG_TYPE.TGS_REQ,
        padata: [{ padataType: PA_TYPE.TGS_REQ, padataValue: unpackGssKrb5Token(apReq).message }],
        reqBody: { ...base.reqBody, cname: undefined as never, sname: { nameType: KRB_NT.SRV_HST, nameString: ['HTTP', 'fuzz.sspi-emu.local'] } },
      }
    : base;
  if (tgs) delete (req.reqBody as { cname?: unknown }).cname;
  const kind = tgs ? 'TGS-REQ' : 'AS-REQ';
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [4, 'fields'],
    [4, 'der'],
    [3, 'bytes'],
    [1, 'noise'],
    [1, 'random-der'],
  ]);
  const packed = packKdcReq(req);
  if (strategy === 'valid') return { bytes: packed, mutation: `a ${kind} as a client sends it`, strategy };
  if (strategy === 'fields') {
    const field = rng.pick(['etype', 'names', 'times', 'padata', 'options', 'tickets', 'addresses'] as const);
    const body = { ...req.reqBody };
    let padata = req.padata;
    let how = '';
    switch (field) {
      case 'etype':
        body.etype = rng.pick([[], [0], [-1], [1, 3, 23], Array.from({ length: rng.range(100, 3000) }, () => rng.pick(ETYPES)), [0x7fffffff, -0x80000000]]);
        how = `etype list of ${body.etype.length}`;
        break;
      case 'names': {
        const nameString = rng.pick([
          [],
          [''],
          ['krbtgt'],
          ['x'.repeat(rng.range(100, 5000))],
          Array.from({ length: rng.range(2, 500) }, () => 'a'),
          ['alice\u0000'],
          ['Alice'],
        ]);
        if (rng.chance(0.5)) body.cname = { nameType: rng.pick([0, 1, 2, 10, -1]), nameString };
        else body.sname = { nameType: rng.pick([0, 1, 2, 3]), nameString };
        if (rng.chance(0.3)) body.realm = rng.pick(['', 'OTHER.TEST', kdc.realm.toLowerCase(), 'R'.repeat(rng.range(100, 2000))]);
        how = `names ${JSON.stringify(nameString.slice(0, 3))} (${nameString.length}), realm ${JSON.stringify(body.realm.slice(0, 30))}`;
        break;
      }
      case 'times':
        body.till = wholeSeconds(rng.pick([0, 1000, 253402300799000, Date.now() - 86400_000, Date.now() + 10 * 365 * 86400_000]));
        if (rng.chance(0.5)) body.from = wholeSeconds(rng.pick([0, 253402300799000, Date.now() + 86400_000]));
        if (rng.chance(0.5)) body.rtime = new Date(rng.pick([0, 253402300799000]));
        how = `till ${body.till.toISOString()}`;
        break;
      case 'padata':
        padata = Array.from({ length: rng.pick([0, 1, 2, 50, 500]) }, () => ({
          padataType: rng.pick([PA_TYPE.ENC_TIMESTAMP, PA_TYPE.TGS_REQ, PA_TYPE.PW_SALT, 128, 136, 149, 0, -1, 0x7fffffff]),
          padataValue: rng.pick([
            new Uint8Array(0),
            rng.bytes(rng.length(200)),
            randomDer(rng),
            apReq,
            tlv(0x30, tlv(0xa0, tlv(0x02, Uint8Array.of(18))), tlv(0xa2, tlv(0x04, rng.bytes(rng.range(0, 80))))),
          ]),
        }));
        how = `padata: ${padata.length} entries`;
        break;
      case 'options':
        body.kdcOptions = rng.next() >>> 0;
        body.nonce = rng.pick([0, 0x7fffffff, rng.next() & 0x7fffffff]);
        how = `kdc-options 0x${body.kdcOptions.toString(16)}`;
        break;
      case 'tickets':
        body.additionalTickets = [unpackApReq(unpackGssKrb5Token(apReq).message).ticket];
        how = 'an additional ticket';
        break;
      default:
        body.addresses = Array.from({ length: rng.range(0, 40) }, () => ({ addrType: rng.pick([2, 24, 0, -1]), address: rng.bytes(rng.length(20)) }));
        how = `${body.addresses.length} addresses`;
    }
    try {
      return { bytes: packKdcReq({ ...req, reqBody: body, ...(padata === undefined ? {} : { padata }) }), mutation: `${kind} fields: ${how}`, strategy };
    } catch (error) {
      return {
        bytes: anyByteMutation(rng, packed, apReq, 4096).bytes,
        mutation: `${kind} fields: ${how} (not packable: ${(error as Error).message}); bytes instead`,
        strategy,
      };
    }
  }
  if (strategy === 'der') {
    const m = derMutation(rng, packed, undefined);
    return { bytes: m.bytes, mutation: `${kind} ${m.mutation}`, strategy };
  }
  if (strategy === 'noise') return { ...noise(rng, Uint8Array.of(rng.pick([0x6a, 0x6c, 0x30])), 4096), strategy };
  if (strategy === 'random-der') return { bytes: tlv(rng.pick([0x6a, 0x6c, 0x6e, 0x7e, 0x61]), randomDer(rng)), mutation: 'random DER', strategy };
  const m = anyByteMutation(rng, packed, apReq, 4096);
  return { bytes: m.bytes, mutation: `${kind} ${m.mutation}`, strategy };
}

/** What the KDC sent back, read: a KRB-ERROR with its code, a reply, or something no KDC may send. */
function readReply(reply: Uint8Array): { label: string; bad?: string } {
  try {
    const message = unpackKerberosMessage(reply);
    if (message.type === 'KRB-ERROR') return { label: `KRB-ERROR ${krbErrorName(message.message.errorCode).replace(/ \(\d+\)$/, '')}` };
    if (message.type === 'AS-REP' || message.type === 'TGS-REP') return { label: message.type };
    return { label: message.type, bad: `the KDC answered a ${message.type}` };
  } catch (error) {
    return { label: 'unreadable', bad: `the KDC's reply does not decode: ${(error as Error).message}` };
  }
}

function lengthPrefix(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** One UDP exchange: the datagram sent, the first datagram back, or undefined by the deadline (a KDC may drop a datagram). */
function udpAsk(kdc: FuzzKdc, datagram: Uint8Array, deadlineMs: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(kdc.host.includes(':') ? 'udp6' : 'udp4');
    let timer: NodeJS.Timeout | undefined;
    const done = (reply: Uint8Array | undefined): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      socket.removeAllListeners('message');
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve(reply);
    };
    socket.on('error', () => done(undefined));
    socket.on('message', (message) => done(new Uint8Array(message)));
    timer = setTimeout(() => done(undefined), deadlineMs);
    socket.send(datagram, kdc.port, kdc.host, (error) => {
      if (error !== null && error !== undefined) done(undefined);
    });
  });
}

/**
 * One TCP exchange: the bytes written (a length prefix, true or not, and the message), our side
 * ended when `end`; then the first whole framed reply, or the connection's close. 'hang' when
 * neither came by the deadline.
 */
function tcpAsk(kdc: FuzzKdc, chunks: readonly Uint8Array[], end: boolean, deadlineMs: number): Promise<{ reply?: Uint8Array; closed: boolean } | 'hang'> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: kdc.host, port: kdc.port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: { reply?: Uint8Array; closed: boolean } | 'hang'): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('hang'), deadlineMs);
    socket.on('error', () => finish({ closed: true }));
    socket.on('close', () => finish({ closed: true }));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4) {
        const n = received.readUInt32BE(0);
        if (received.length >= 4 + n) finish({ reply: new Uint8Array(received.subarray(4, 4 + n)), closed: false });
      }
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (end) socket.end();
    });
  });
}

async function kdcRequestInput(env: FuzzEnv, apReq: Uint8Array, rng: Rng, trial: Trial): Promise<void> {
  const kdc = env.kdc;
  if (kdc === undefined) throw new Error("kerberos/kdc-request needs the run's domain controller (FuzzEnv.kdc)");
  const v = kdcRequestVariant(rng, kdc, env.account.user, apReq);
  const transport = rng.weighted<string>([
    [4, 'udp'],
    [4, 'tcp'],
    [2, 'tcp-lying'],
    [1, 'tcp-split'],
    [1, 'tcp-two'],
  ]);
  let outcome = '';
  const check = (reply: Uint8Array | undefined, what: string): void => {
    if (reply === undefined) return;
    const r = readReply(reply);
    outcome = r.label;
    if (r.bad !== undefined) trial.violations.push(`${what}: ${r.bad}`);
  };
  let sent = v.bytes;
  let how = transport;
  if (transport === 'udp') {
    trial.hostile(v.strategy, sent, `${v.mutation} [udp]`);
    const reply = await udpAsk(kdc, sent, KDC_DEADLINE_MS);
    outcome = 'dropped';
    check(reply, 'over UDP');
  } else {
    const lying = transport === 'tcp-lying';
    const claimed = lying
      ? rng.pick([0, 1, sent.length - 1, sent.length + 1, sent.length + rng.range(2, 100_000), 0x7fffffff, 0x80000000 | sent.length, 0xffffffff, 65536])
      : sent.length;
    const prefix = lengthPrefix(claimed >>> 0);
    let chunks: Uint8Array[] = [prefix, sent];
    if (transport === 'tcp-split') {
      const whole = concatBytes(prefix, sent);
      const cut = rng.range(1, Math.max(1, whole.length - 1));
      chunks = [whole.subarray(0, cut), whole.subarray(cut)];
      how = `tcp, written in two at ${cut}`;
    }
    if (transport === 'tcp-two') {
      const valid = packKdcReq(validAsReq(kdc, env.account.user, rng.next() & 0x7fffffff));
      chunks = [prefix, sent, lengthPrefix(valid.length), valid];
      how = 'tcp, a valid AS-REQ pipelined after it';
    }
    if (lying) how = `tcp, length prefix 0x${(claimed >>> 0).toString(16)} for ${sent.length} bytes`;
    sent = concatBytes(...chunks);
    trial.hostile(v.strategy, sent, `${v.mutation} [${how}]`);
    // A request the prefix says is whole must be answered; one it says is longer waits for bytes that never come: our end of the connection tells the KDC so.
    const whole = !lying || claimed === v.bytes.length;
    const got = await tcpAsk(kdc, chunks, !whole, KDC_DEADLINE_MS);
    if (got === 'hang') {
      outcome = 'hang';
      trial.violations.push(`the KDC neither answered nor closed the connection within ${KDC_DEADLINE_MS} ms (${how})`);
    } else if (got.reply !== undefined) check(got.reply, 'over TCP');
    else {
      outcome = 'closed';
      if (whole && (claimed & 0x80000000) === 0 && claimed <= 65536)
        trial.violations.push(`the KDC closed the connection without answering a whole request of ${claimed} bytes`);
    }
  }
  // The KDC must still answer a valid request afterwards: an AS-REQ without pre-authentication gets KDC_ERR_PREAUTH_REQUIRED.
  const after = packKdcReq(validAsReq(kdc, env.account.user, rng.next() & 0x7fffffff));
  const viaUdp = transport === 'udp';
  const answer = viaUdp ? await udpAsk(kdc, after, KDC_DEADLINE_MS) : await tcpAsk(kdc, [lengthPrefix(after.length), after], false, KDC_DEADLINE_MS);
  const afterReply = answer === 'hang' ? undefined : answer instanceof Uint8Array ? answer : answer?.reply;
  const label = afterReply === undefined ? 'no answer' : readReply(afterReply).label;
  trial.expect(
    label === 'KRB-ERROR KDC_ERR_PREAUTH_REQUIRED',
    `a valid AS-REQ over ${viaUdp ? 'UDP' : 'TCP'} after the input got ${label}, not KDC_ERR_PREAUTH_REQUIRED`,
  );
  trial.outcome = outcome;
}

/** The KDC generator: a captured AP-REQ (for the TGS-REQs' PA-TGS-REQ) once per batch, then raw bytes to the KDC, not SSPI. */
const KDC_GENERATOR: GeneratorSpec = {
  name: 'kerberos/kdc-request',
  packageKey: 'kerberos',
  target: 'tokens',
  // The answers counted are the KDC's replies (Trial.outcome), not an SSPI function's.
  fn: 'KDC',
  describe:
    "AS-REQ and TGS-REQ bytes to the DC's KDC over UDP and TCP (fields, DER-level, bytes, noise; lying, split and pipelined TCP length prefixes); a valid AS-REQ must be answered after each",
  create: async (env: FuzzEnv) => {
    const trial = { violations: [] as string[] };
    const fresh = await env.sspi.initializeSecurityContext({ credential: env.clientCredential, contextReq: CLIENT_REQ, targetName: TARGET });
    const token = outputToken(fresh);
    await dropContext(env.sspi, fresh.context, trial.violations, 'the client context');
    if (token === undefined) throw new Error(`InitializeSecurityContext answered ${statusName(fresh.status)} and no AP-REQ`);
    const apReq: Uint8Array = token;
    return {
      run: (rng, _lane, t) => kdcRequestInput(env, apReq, rng, t),
      close: () => Promise.resolve(trial.violations),
    };
  },
};

export const KERBEROS_TOKEN_GENERATORS: readonly GeneratorSpec[] = [...AP_GENERATORS, KDC_GENERATOR];

// ---------------------------------------------------------------------------------------------
// kerberos/mic-token, kerberos/wrap-token: RFC 4121 4.2 tokens with their header fields changed

/**
 * One header field of an RFC 4121 MIC or Wrap token (TOK_ID 2, Flags 1, Filler 1 (MIC: 5), EC 2,
 * RRC 2, SND_SEQ 8) changed, and whether the change must be refused. Every field but RRC is
 * covered: a MIC's checksum runs over its header, a Wrap token carries a copy of its header inside
 * the ciphertext (sealed) or under the checksum (not sealed; EC is then the checksum's length and
 * RRC is taken as 0 in the copy). A changed RRC rotates the bytes differently, so the token fails
 * or, rotated back by the same amount, reads the same: no expectation.
 */
function headerVariant(rng: Rng, token: Uint8Array, wrap: boolean): { token: Uint8Array; how: string; refuse: boolean } {
  const out = Uint8Array.from(token);
  const field = rng.pick(
    wrap ? (['tok-id', 'flags', 'filler', 'ec', 'rrc', 'seq', 'cut', 'extend'] as const) : (['tok-id', 'flags', 'filler', 'seq', 'cut', 'extend'] as const),
  );
  const u16 = (at: number, v: number): void => {
    out[at] = (v >> 8) & 0xff;
    out[at + 1] = v & 0xff;
  };
  switch (field) {
    case 'tok-id': {
      const v = rng.pick([0x0404, 0x0504, 0x0101, 0x0201, 0x0102, 0x0000, 0xffff, 0x0405, 0x0604].filter((t) => t !== ((token[0]! << 8) | token[1]!)));
      u16(0, v);
      return { token: out, how: `TOK_ID 0x${v.toString(16).padStart(4, '0')}`, refuse: true };
    }
    case 'flags': {
      const bit = rng.pick([0x01, 0x02, 0x04, 0x08, 0x80]);
      out[2]! ^= bit;
      return { token: out, how: `Flags bit 0x${bit.toString(16)} flipped`, refuse: true };
    }
    case 'filler': {
      const at = wrap ? 3 : rng.range(3, 7);
      out[at] = rng.pick([0x00, 0xfe, 0x7f]);
      return { token: out, how: `filler byte ${at} 0x${out[at]!.toString(16)}`, refuse: true };
    }
    case 'ec': {
      const v = rng.pick([0, 1, 12, 16, 0x7fff, 0xffff]);
      const same = v === ((token[4]! << 8) | token[5]!);
      u16(4, v);
      return { token: out, how: `EC ${v}`, refuse: !same };
    }
    case 'rrc': {
      const v = rng.pick([0, 12, 16, 28, 44, 60, 0xffff, rng.int(0x10000)]);
      u16(6, v);
      return { token: out, how: `RRC ${v}`, refuse: false };
    }
    case 'seq': {
      const at = 8 + rng.int(8);
      out[at]! ^= 1 << rng.int(8);
      return { token: out, how: `SND_SEQ byte ${at - 8} bit flipped`, refuse: true };
    }
    case 'cut': {
      const n = rng.pick([0, 1, 15, 16, 17, token.length - 1]);
      return { token: token.subarray(0, Math.max(0, n)), how: `cut to ${n}`, refuse: n !== token.length };
    }
    default:
      return { token: concatBytes(token, rng.bytes(rng.range(1, 32))), how: 'extended', refuse: false };
  }
}

function rfc4121Generator(wrap: boolean): GeneratorSpec {
  const fn = wrap ? 'DecryptMessage' : 'VerifySignature';
  return {
    name: wrap ? 'kerberos/wrap-token' : 'kerberos/mic-token',
    packageKey: 'kerberos',
    target: 'messages',
    fn,
    describe: `RFC 4121 ${wrap ? 'Wrap' : 'MIC'} tokens of a fresh context (with and without an acceptor subkey, either direction) with a header field changed (TOK_ID, Flags, filler, ${wrap ? 'EC, RRC, ' : ''}SND_SEQ), cut or extended`,
    create: (env: FuzzEnv) =>
      Promise.resolve({
        run: async (rng: Rng, _lane: number, trial: Trial) => {
          const mutual = rng.chance(0.5);
          const pair = await handshake(env, mutual ? MUTUAL_REQ : CLIENT_REQ, SERVER_REQ);
          if ('failed' in pair) {
            trial.hostile('setup', new Uint8Array(0), `handshake (${mutual ? 'mutual' : 'one leg'})`);
            trial.violations.push(`the handshake failed: ${pair.failed}`);
            return;
          }
          const fromClient = rng.chance(0.5);
          const [sender, receiver] = fromClient ? [pair.client, pair.server] : [pair.server, pair.client];
          try {
            const plaintext = rng.bytes(rng.range(1, 200));
            const list: SecBuffer[] = wrap
              ? [
                  { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(128) },
                  { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(plaintext) },
                ]
              : [
                  { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(plaintext) },
                  { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(128) },
                ];
            const made = wrap ? await env.sspi.encryptMessage(sender, 0, list, 0) : await env.sspi.makeSignature(sender, 0, list, 0);
            trial.record(wrap ? 'EncryptMessage' : 'MakeSignature', made);
            if (made.status !== SEC_E_OK) {
              trial.hostile('setup', new Uint8Array(0), 'the message to alter');
              trial.violations.push(`${wrap ? 'EncryptMessage' : 'MakeSignature'} answered ${statusName(made.status)}`);
              return;
            }
            const tokenAt = wrap ? 0 : 1;
            const original = made.message[tokenAt]!.pvBuffer;
            const valid = rng.chance(0.05);
            const v = valid ? { token: original, how: 'unaltered', refuse: false } : headerVariant(rng, original, wrap);
            const delivered: SecBuffer[] = made.message.map((b, i) => ({
              BufferType: b.BufferType,
              pvBuffer: i === tokenAt ? Uint8Array.from(v.token) : Uint8Array.from(b.pvBuffer),
            }));
            trial.hostile(
              valid ? 'valid' : v.how.split(' ')[0]!,
              concatBytes(...delivered.map((b) => b.pvBuffer)),
              `${wrap ? 'Wrap' : 'MIC'} token ${fromClient ? 'c2s' : 's2c'}${mutual ? ' (acceptor subkey)' : ''}: ${v.how}`,
            );
            const got = wrap ? await env.sspi.decryptMessage(receiver, delivered, 0) : await env.sspi.verifySignature(receiver, delivered, 0);
            const status = trial.answer(fn, got);
            if (valid) trial.expectStatus(status, SEC_E_OK, `${fn} of an unaltered token`);
            if (v.refuse) trial.expect(status !== SEC_E_OK, `${fn} accepted a token whose covered header was altered (${v.how})`);
            if (wrap && status === SEC_E_OK && !v.refuse)
              trial.expect(
                Buffer.compare(Buffer.from(got.message[1]!.pvBuffer), Buffer.from(plaintext)) === 0,
                'DecryptMessage answered SEC_E_OK with other bytes than were sealed',
              );
          } finally {
            await dropContext(env.sspi, pair.client, trial.violations, 'the client context');
            await dropContext(env.sspi, pair.server, trial.violations, 'the server context');
          }
        },
        close: () => Promise.resolve([]),
      }),
  };
}

export const KERBEROS_RFC4121_GENERATORS: readonly GeneratorSpec[] = [rfc4121Generator(false), rfc4121Generator(true)];
