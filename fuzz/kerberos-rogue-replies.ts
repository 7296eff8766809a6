// The hostile replies of the rogue KDC (fuzz/kerberos-rogue-kdc.ts), each made from the real reply to
// the lane's request (the real KDC's, with the lane user's keys, the TGT's session key and the
// TGS-REQ's subkey, all of which the rogue holds or opens): the AS-REP or TGS-REP opened, changed and
// sealed again (a forgery that does not answer the request: nonce, cname, crealm, sname, srealm, the
// enc-part's key or key usage, its message type or etype label, or times it did not ask for or that
// are outside the client's clock skew; or fields a client may take or refuse: flags, session keys,
// tickets, PA-DATA; or DER-level changes inside the sealed
// plaintext), KRB-ERRORs of any code with hostile e-data (PREAUTH_REQUIRED with lying ETYPE-INFO2),
// a reply to an earlier request replayed, DER- and byte-level mutations, deep nesting and noise.
// Every choice comes from the lane's Rng, one draw per choice whatever the rogue's history holds.

import { decrypt, encrypt, KEY_USAGE, makeRandomKey, SUPPORTED_ETYPES, type EncryptionKey } from '../packages/kerberos/crypto/index.js';
import {
  KRB_ERROR_CODE,
  KRB_MSG_TYPE,
  KRB_NT,
  PA_TYPE,
  TICKET_FLAGS,
  packEncKdcRepPart,
  packEtypeInfo2,
  packKdcRep,
  packKrbError,
  packMethodData,
  unpackApReq,
  unpackAuthenticator,
  unpackEncKdcRepPart,
  unpackEncTicketPart,
  unpackKdcRep,
  type EncKdcRepPart,
  type EtypeInfo2Entry,
  type KdcRep,
  type KdcReq,
  type PaData,
  type PrincipalName,
} from '../packages/kerberos/messages/index.js';
import { anyByteMutation, concatBytes, noise, toHex } from './bytes.js';
import { derMutation } from './negotiate.js';
import type { Rng } from './rng.js';

/** The lane users' password and salt: every lane user has the same keys (made once), under its own name. */
export const ROGUE_PASSWORD = 'rogue-kdc-lane-password';
export const ROGUE_SALT = 'ROGUE.FUZZ.SSPI-EMU.TESTlanes';

export function rogueUser(lane: number): string {
  return `rogue${lane}`;
}

export function rogueTarget(lane: number): string {
  return `HTTP/rogue${lane}.fuzz.sspi-emu.local`;
}

/** Which reply of the exchange is the hostile one. */
export type RogueStep = 'as-error' | 'as-rep' | 'tgs-rep';

export interface Hostile {
  bytes: Uint8Array;
  strategy: string;
  mutation: string;
  mustReject: boolean;
  expectOk: boolean;
  /** Tickets (their enc-part ciphertext, hex) the client must not keep. */
  tainted: string[];
}

/** The forgeries a client must refuse, which a test may ask for by name (RogueControl.arm's force), "step:name". */
export const FORCEABLE_MUST_REJECT: readonly string[] = [
  'as-rep:nonce',
  'as-rep:cname',
  'as-rep:crealm',
  'as-rep:sname',
  'as-rep:wrong-key',
  'tgs-rep:nonce',
  'tgs-rep:cname',
  'tgs-rep:crealm',
  'tgs-rep:sname',
  'tgs-rep:wrong-key',
];

/**
 * The time forgeries (RogueReplies.times): each makes a reply whose times the client must refuse,
 * as not answering its request (MIT's KRB5_KDCREP_MODIFIED) or as outside its clock skew
 * (KRB5_KDCREP_SKEW). A forged starttime or authtime lies at least this far from the clock: past
 * the client's default skew (maxClockSkewSeconds, 300 s), with room for a loaded machine.
 */
export const TIME_FORGERIES = [
  'expired',
  'not-yet-valid',
  'authtime-far',
  'renew-past-till',
  'renew-before-end',
  'end-past-till',
  'all-equal',
  'year-9999',
  'epoch',
] as const;
export type TimeForgery = (typeof TIME_FORGERIES)[number];
const FORGED_SKEW_SECONDS = 600;

/** The time forgeries by name, "step:times-<forgery>" (RogueControl.arm's force). */
export const FORCEABLE_TIMES: readonly string[] = (['as-rep', 'tgs-rep'] as const).flatMap((step) => TIME_FORGERIES.map((t) => `${step}:times-${t}`));

/** Every reply a test may ask for by name: the forgeries, the real reply, and what the first runs found. */
export const FORCEABLE: readonly string[] = [
  ...FORCEABLE_MUST_REJECT,
  ...FORCEABLE_TIMES,
  'tgs-rep:valid',
  // Not must-reject, but what the first runs found: a session key of the wrong length, and s2kparams past the client's limit.
  'tgs-rep:short-session-key',
  'as-error:s2k-16777215',
];

// ---------------------------------------------------------------------------------------------
// Raw DER, for what the message packers refuse to make

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const content = concatBytes(...parts);
  return concatBytes(Uint8Array.of(tag), derLength(content.length), content);
}

/** `depth` SEQUENCEs one inside the next around a NULL, under `outer` (built in one pass: a deep tree is not a recursion here). */
export function deeplyNested(outer: number, depth: number): Uint8Array {
  const lengths: number[] = [];
  let inner = 2;
  for (let i = 0; i < depth; i++) {
    lengths.push(inner);
    inner += 1 + derLength(inner).length;
  }
  const body = new Uint8Array(inner);
  let at = 0;
  for (let i = depth - 1; i >= 0; i--) {
    body[at++] = 0x30;
    const l = derLength(lengths[i]!);
    body.set(l, at);
    at += l.length;
  }
  body[at++] = 0x05;
  body[at++] = 0x00;
  return tlv(outer, body);
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** How many real replies of each step are kept, to replay one as the answer to another request. */
const HISTORY = 8;

/** What the reply maker needs of a lane: its Rng, the step it plays with, and a reply a test asked for by name. */
export interface HostileLane {
  readonly rng: Rng;
  readonly step: RogueStep;
  readonly force: string | undefined;
}

export class HostileReplies {
  private readonly realm: string;
  private readonly userKeys: ReadonlyMap<number, EncryptionKey>;
  private readonly krbtgtKeys: ReadonlyMap<number, EncryptionKey>;
  private readonly liar: boolean;
  private readonly history: Record<RogueStep, Uint8Array[]> = { 'as-error': [], 'as-rep': [], 'tgs-rep': [] };

  /** `liar`: call the unchanged real replies forged (a test's lying fixture, to prove the checks fail). */
  constructor(realm: string, userKeys: ReadonlyMap<number, EncryptionKey>, krbtgtKeys: ReadonlyMap<number, EncryptionKey>, liar: boolean) {
    this.realm = realm;
    this.userKeys = userKeys;
    this.krbtgtKeys = krbtgtKeys;
    this.liar = liar;
  }

  /** Keeps a real reply, to replay later. */
  remember(step: RogueStep, bytes: Uint8Array): void {
    const list = this.history[step];
    list.push(bytes);
    if (list.length > HISTORY) list.shift();
  }

  /** A KRB-ERROR for the request. */
  refusal(req: KdcReq | undefined, code: number, text: string, eData?: Uint8Array): Uint8Array {
    const realm = this.realm;
    return packKrbError({
      stime: new Date(Math.floor(Date.now() / 1000) * 1000),
      susec: 0,
      errorCode: code,
      realm,
      sname: req?.reqBody.sname ?? { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', realm] },
      eText: text,
      ...(eData === undefined ? {} : { eData }),
    });
  }

  /** The hostile reply to `req` for the lane, made from the real reply `honest`. */
  hostile(lane: HostileLane, req: KdcReq, honest: Uint8Array): Hostile {
    const rng = lane.rng;
    const base: Hostile = {
      bytes: honest,
      strategy: 'valid',
      mutation: 'the real reply',
      mustReject: this.liar,
      expectOk: !this.liar,
      tainted: [],
    };
    const isRep = honest[0] === 0x6b || honest[0] === 0x6d;
    if (lane.force !== undefined) {
      const name = lane.force.split(':')[1]!;
      if (name === 's2k-16777215') {
        const entries: EtypeInfo2Entry[] = [{ etype: 18, salt: ROGUE_SALT, s2kparams: Uint8Array.of(0, 0xff, 0xff, 0xff) }];
        const eData = packMethodData([{ padataType: PA_TYPE.ETYPE_INFO2, padataValue: packEtypeInfo2(entries) }]);
        const bytes = this.refusal(req, KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED, 'rogue', eData);
        return {
          bytes,
          strategy: 'etype-info',
          mutation: `KDC_ERR_PREAUTH_REQUIRED: ETYPE-INFO2 ${describeEntries(entries)}`,
          mustReject: false,
          expectOk: false,
          tainted: [],
        };
      }
      if (name === 'valid') return base;
      const time = name.startsWith('times-') ? (name.slice('times-'.length) as TimeForgery) : undefined;
      const forced = !isRep
        ? undefined
        : name === 'short-session-key'
          ? this.fields(rng, lane.step, req, honest, 'short')
          : time !== undefined
            ? this.times(rng, lane.step, req, honest, time)
            : this.semantic(rng, lane.step, req, honest, name);
      return forced ?? { ...base, strategy: 'unreached', mutation: `the real KDC refused: no reply to force ${lane.force} on`, expectOk: false };
    }
    const strategy = rng.weighted<string>(
      lane.step === 'as-error'
        ? [
            [2, 'valid'],
            [7, 'etype-info'],
            [4, 'error'],
            [1, 'replay'],
            [3, 'der'],
            [2, 'bytes'],
            [1, 'nesting'],
            [1, 'noise'],
          ]
        : [
            [2, 'valid'],
            [7, 'must-reject'],
            [6, 'fields'],
            [2, 'inner-der'],
            [3, 'error'],
            [1, 'replay'],
            [3, 'der'],
            [2, 'bytes'],
            [1, 'nesting'],
            [1, 'noise'],
          ],
    );
    if (strategy === 'valid') return base;
    // One draw whatever the history holds, so that the rest of the input's choices do not depend on what other inputs did.
    const others = [...this.history['as-rep'], ...this.history['tgs-rep'], honest];
    const other = others[rng.next() % others.length]!;
    switch (strategy) {
      case 'etype-info':
        return { ...this.etypeInfo(rng, req), strategy, expectOk: false, tainted: [] };
      case 'error':
        return { ...this.anyError(rng, req), strategy, expectOk: false, tainted: [] };
      case 'replay': {
        const old = this.history[lane.step].filter((b) => hexOf(b) !== hexOf(honest));
        const draw = rng.next();
        if (old.length === 0) return { ...base, strategy, mutation: 'nothing to replay yet: the real reply', mustReject: false };
        const bytes = old[draw % old.length]!;
        // An old AS-REP or TGS-REP answers another request (another nonce, key or client): never to be taken.
        const rep = lane.step !== 'as-error';
        return { bytes, strategy, mutation: `a reply to an earlier request replayed`, mustReject: rep, expectOk: false, tainted: rep ? ticketsOf(bytes) : [] };
      }
      case 'must-reject':
      case 'fields':
      case 'inner-der': {
        if (!isRep) return { ...base, strategy, mutation: 'the real KDC refused: its KRB-ERROR', mustReject: false, expectOk: false };
        const made =
          strategy === 'must-reject'
            ? this.semantic(rng, lane.step, req, honest, undefined)
            : strategy === 'fields'
              ? this.fields(rng, lane.step, req, honest)
              : this.innerDer(rng, lane.step, req, honest);
        return made ?? { ...base, strategy, mutation: 'the reply could not be opened: the real reply', mustReject: false, expectOk: false };
      }
      case 'der': {
        const m = derMutation(rng, honest, undefined);
        return { bytes: m.bytes, strategy, mutation: `DER: ${m.mutation}`, mustReject: false, expectOk: false, tainted: [] };
      }
      case 'bytes': {
        const m = anyByteMutation(rng, honest, other, 70_000);
        return { bytes: m.bytes, strategy, mutation: m.mutation, mustReject: false, expectOk: false, tainted: [] };
      }
      case 'nesting': {
        const depth = rng.pick([64, 1000, 10_000, 60_000, 200_000]);
        const tag = rng.pick([0x6b, 0x6d, 0x7e, 0x30]);
        return {
          bytes: deeplyNested(tag, depth),
          strategy,
          mutation: `${depth} SEQUENCEs nested under 0x${tag.toString(16)}`,
          mustReject: false,
          expectOk: false,
          tainted: [],
        };
      }
      default: {
        const m = noise(rng, Uint8Array.of(rng.pick([0x6b, 0x6d, 0x7e, 0x30, 0x00])), 4096);
        return { bytes: m.bytes, strategy: 'noise', mutation: m.mutation, mustReject: false, expectOk: false, tainted: [] };
      }
    }
  }

  /** The reply's enc-part opened: its key and usage (the user's key for an AS-REP; the TGS-REQ's subkey, or the TGT's session key). */
  private opened(
    step: RogueStep,
    req: KdcReq,
    honest: Uint8Array,
  ): { rep: KdcRep; part: EncKdcRepPart; key: EncryptionKey; usage: number; session?: EncryptionKey } | undefined {
    try {
      const rep = unpackKdcRep(honest);
      if (step === 'as-rep') {
        const key = this.userKeys.get(rep.encPart.etype);
        if (key === undefined) return undefined;
        return { rep, part: unpackEncKdcRepPart(decrypt(key, KEY_USAGE.AS_REP_ENC_PART, rep.encPart.cipher)), key, usage: KEY_USAGE.AS_REP_ENC_PART };
      }
      const apReq = unpackApReq(req.padata!.find((p) => p.padataType === PA_TYPE.TGS_REQ)!.padataValue);
      const krbtgt = this.krbtgtKeys.get(apReq.ticket.encPart.etype)!;
      const session = unpackEncTicketPart(decrypt(krbtgt, KEY_USAGE.KDC_REP_TICKET, apReq.ticket.encPart.cipher)).key;
      const authenticator = unpackAuthenticator(decrypt(session, KEY_USAGE.TGS_REQ_AUTHENTICATOR, apReq.authenticator.cipher));
      const [key, usage] =
        authenticator.subkey === undefined ? [session, KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY] : [authenticator.subkey, KEY_USAGE.TGS_REP_ENC_PART_SUBKEY];
      return { rep, part: unpackEncKdcRepPart(decrypt(key, usage, rep.encPart.cipher)), key, usage, session };
    } catch {
      return undefined;
    }
  }

  private sealed(rep: KdcRep, part: EncKdcRepPart, key: EncryptionKey, usage: number, plaintext?: Uint8Array): Uint8Array {
    const cipher = encrypt(key, usage, plaintext ?? packEncKdcRepPart(part));
    return packKdcRep({ ...rep, encPart: { ...rep.encPart, etype: key.keytype, cipher } });
  }

  /**
   * A reply that does not answer this request, sealed right otherwise: another nonce, client,
   * realm or service, or an enc-part under another key or key usage. The client must refuse it.
   */
  private semantic(rng: Rng, step: RogueStep, req: KdcReq, honest: Uint8Array, forced: string | undefined): Hostile | undefined {
    const o = this.opened(step, req, honest);
    if (o === undefined) return undefined;
    const { rep, part, key, usage } = o;
    const kind =
      forced ??
      rng.pick(['nonce', 'cname', 'crealm', 'sname', 'ticket-sname', 'srealm', 'ticket-realm', 'wrong-key', 'usage', 'msg-type', 'etype-label'] as const);
    const otherName = (n: PrincipalName): PrincipalName =>
      rng.pick<PrincipalName>([
        { nameType: n.nameType, nameString: [rogueUser(rng.range(0, 999) + 1000)] },
        { nameType: KRB_NT.PRINCIPAL, nameString: ['alice'] },
        { nameType: KRB_NT.PRINCIPAL, nameString: [...n.nameString, 'x'] },
        { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', this.realm] },
        { nameType: n.nameType, nameString: n.nameString.map((s) => (s.toUpperCase() === s ? s.toLowerCase() + 'X' : s.toUpperCase())) },
      ]);
    const otherRealm = (): string => rng.pick(['OTHER.TEST', `${this.realm}.EVIL`, 'A', 'FUZZ']);
    const otherService = (): PrincipalName =>
      rng.pick<PrincipalName>([
        { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', 'OTHER.TEST'] },
        { nameType: KRB_NT.SRV_INST, nameString: ['HTTP', 'evil.example'] },
        { nameType: KRB_NT.SRV_INST, nameString: rogueTarget(1000 + rng.range(0, 99)).split('/') },
        { nameType: KRB_NT.PRINCIPAL, nameString: ['krbtgt'] },
      ]);
    let bytes: Uint8Array;
    let how: string;
    switch (kind) {
      case 'nonce': {
        const nonce = rng.pick([(part.nonce + 1) >>> 0, 0, 0xffffffff, (part.nonce ^ 0x40000000) >>> 0, rng.next() >>> 0].filter((n) => n !== part.nonce));
        bytes = this.sealed(rep, { ...part, nonce }, key, usage);
        how = `nonce ${nonce}, the request's ${part.nonce}`;
        break;
      }
      case 'cname': {
        const cname = otherName(rep.cname);
        bytes = this.sealed({ ...rep, cname }, part, key, usage);
        how = `cname ${cname.nameString.join('/')}`;
        break;
      }
      case 'crealm': {
        const crealm = otherRealm();
        bytes = this.sealed({ ...rep, crealm }, part, key, usage);
        how = `crealm ${crealm}`;
        break;
      }
      case 'sname': {
        const sname = otherService();
        bytes = this.sealed(rep, { ...part, sname }, key, usage);
        how = `the enc-part's sname ${sname.nameString.join('/')}`;
        break;
      }
      case 'ticket-sname': {
        const sname = otherService();
        bytes = this.sealed({ ...rep, ticket: { ...rep.ticket, sname } }, part, key, usage);
        how = `the ticket's sname ${sname.nameString.join('/')}`;
        break;
      }
      case 'srealm': {
        const srealm = otherRealm();
        bytes = this.sealed(rep, { ...part, srealm }, key, usage);
        how = `srealm ${srealm}`;
        break;
      }
      case 'ticket-realm': {
        const realm = otherRealm();
        bytes = this.sealed({ ...rep, ticket: { ...rep.ticket, realm } }, part, key, usage);
        how = `the ticket's realm ${realm}`;
        break;
      }
      case 'wrong-key': {
        const keys: Array<[EncryptionKey, string]> = [
          [makeRandomKey(key.keytype), 'a random key'],
          [this.krbtgtKeys.get(key.keytype)!, "the krbtgt's key"],
        ];
        if (o.session !== undefined && usage === KEY_USAGE.TGS_REP_ENC_PART_SUBKEY) keys.push([o.session, "the TGT's session key (usage 9)"]);
        if (step === 'tgs-rep') keys.push([this.userKeys.get(key.keytype)!, "the user's long-term key"]);
        const [wrong, name] = rng.pick(keys);
        bytes = this.sealed(rep, part, wrong, usage);
        how = `the enc-part sealed with ${name}`;
        break;
      }
      case 'usage': {
        const swapped = rng.pick(
          [
            KEY_USAGE.AS_REP_ENC_PART,
            KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY,
            KEY_USAGE.TGS_REP_ENC_PART_SUBKEY,
            KEY_USAGE.KDC_REP_TICKET,
            KEY_USAGE.TGS_REQ_AUTHENTICATOR,
            12,
          ].filter((u) => u !== usage),
        );
        if (step === 'tgs-rep' && swapped === KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY && o.session !== undefined) {
          bytes = this.sealed(rep, part, o.session, swapped);
          how = "the enc-part sealed with the TGT's session key, usage 8, though the request sent a subkey";
        } else {
          bytes = this.sealed(rep, part, key, swapped);
          how = `the enc-part sealed with key usage ${swapped}, not ${usage}`;
        }
        break;
      }
      case 'msg-type': {
        const msgType = step === 'as-rep' ? KRB_MSG_TYPE.TGS_REP : KRB_MSG_TYPE.AS_REP;
        bytes = packKdcRep({ ...rep, msgType });
        how = `answered as ${msgType === KRB_MSG_TYPE.AS_REP ? 'an AS-REP' : 'a TGS-REP'}`;
        break;
      }
      default: {
        const etype = rng.pick([1, 3, 16, 23, 24, 0, -1, 0x7fffffff]);
        bytes = packKdcRep({ ...rep, encPart: { ...rep.encPart, etype } });
        how = `the enc-part labelled etype ${etype}, which the client did not ask for`;
        break;
      }
    }
    return { bytes, strategy: 'must-reject', mutation: `must be refused: ${how}`, mustReject: true, expectOk: false, tainted: ticketsOf(bytes) };
  }

  /**
   * A reply whose times the client must refuse, sealed right otherwise (RFC 4120 3.1.5, 3.3.4;
   * packages/kerberos/reply-times.ts): an endtime past the till asked for or already over, a
   * renew-till past what was asked or before the end, a ticket ending as it starts, a starttime in
   * the future or an authtime far from the clock (for a TGS-REP: not the TGT's).
   */
  private times(rng: Rng, step: RogueStep, req: KdcReq, honest: Uint8Array, forced?: TimeForgery): Hostile | undefined {
    const o = this.opened(step, req, honest);
    if (o === undefined) return undefined;
    const { rep, key, usage } = o;
    const part = { ...o.part };
    const now = Date.now();
    const at = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
    const which = forced ?? rng.pick(TIME_FORGERIES);
    const far = (): number => rng.range(FORGED_SKEW_SECONDS, 100_000_000) * 1000;
    const days = (): number => rng.range(1, 400) * 24 * 3_600_000;
    if (which === 'expired') part.endtime = at(now - rng.range(1, 100_000) * 1000);
    else if (which === 'not-yet-valid') {
      // Still before the ticket's end, so that only the clock refuses it (a start after the end is 'all-equal''s kind).
      const room = Math.floor((part.endtime.getTime() - now) / 1000) - 1;
      part.starttime = at(now + rng.range(FORGED_SKEW_SECONDS, Math.max(FORGED_SKEW_SECONDS, Math.min(1_000_000, room))) * 1000);
    }
    else if (which === 'authtime-far') part.authtime = at(now + rng.pick([-1, 1]) * far());
    else if (which === 'renew-past-till') {
      // Past the AS-REQ's till, and past any TGT's renewal (the KDC's policy allows a week at most).
      part.flags = (part.flags | TICKET_FLAGS.RENEWABLE) >>> 0;
      part.renewTill = at(Math.max(now + 8 * 24 * 3_600_000, part.endtime.getTime()) + days());
    } else if (which === 'renew-before-end') {
      part.flags = (part.flags | TICKET_FLAGS.RENEWABLE) >>> 0;
      part.renewTill = at(part.endtime.getTime() - rng.range(1, 36_000) * 1000);
    } else if (which === 'end-past-till') part.endtime = at(Math.max(now, part.endtime.getTime()) + days());
    else if (which === 'all-equal') part.starttime = part.endtime = part.authtime = at(now);
    else if (which === 'year-9999') part.endtime = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));
    else part.authtime = part.endtime = new Date(0);
    const bytes = this.sealed(rep, part, key, usage);
    return { bytes, strategy: 'times', mutation: `must be refused: times: ${which}`, mustReject: true, expectOk: false, tainted: ticketsOf(bytes) };
  }

  /** Fields the client may accept or refuse (flags, keys, tickets, padata), sealed right: no expectation but a documented answer. */
  private fields(rng: Rng, step: RogueStep, req: KdcReq, honest: Uint8Array, shortKey?: 'short'): Hostile | undefined {
    const o = this.opened(step, req, honest);
    if (o === undefined) return undefined;
    const { rep, key, usage } = o;
    const part = { ...o.part };
    const now = Date.now();
    const at = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
    const kind =
      shortKey !== undefined
        ? 'session-key'
        : rng.pick(['times', 'flags', 'session-key', 'last-req', 'ticket', 'kvno', 'padata', 'caddr', 'trailing'] as const);
    // Times the client must refuse: a forgery of their own (the draw kept, so that the other kinds' inputs stay as they were).
    if (kind === 'times') return this.times(rng, step, req, honest);
    let outer: KdcRep = rep;
    let plaintext: Uint8Array | undefined;
    let how = '';
    switch (kind) {
      case 'flags':
        part.flags = rng.pick([0, 0xffffffff, rng.next() >>> 0, 0x00800000]) >>> 0;
        how = `flags 0x${part.flags.toString(16)}`;
        break;
      case 'session-key': {
        const which = shortKey ?? rng.pick(['short', 'long', 'empty', 'unsupported-etype', 'other-etype'] as const);
        const k = part.key;
        if (which === 'short') part.key = { keytype: k.keytype, keyvalue: k.keyvalue.subarray(0, rng.range(1, k.keyvalue.length - 1)) };
        else if (which === 'long') part.key = { keytype: k.keytype, keyvalue: concatBytes(k.keyvalue, rng.bytes(rng.range(1, 64))) };
        else if (which === 'empty') part.key = { keytype: k.keytype, keyvalue: new Uint8Array(0) };
        else if (which === 'unsupported-etype') part.key = { keytype: rng.pick([1, 3, 23, 0, -5]), keyvalue: k.keyvalue };
        else part.key = makeRandomKey(rng.pick(SUPPORTED_ETYPES.filter((e) => e !== k.keytype)));
        how = `the session key: ${which} (etype ${part.key.keytype}, ${part.key.keyvalue.length} bytes)`;
        break;
      }
      case 'last-req':
        part.lastReq = Array.from({ length: rng.range(0, 16) }, () => ({
          lrType: rng.pick([0, 1, -1, 0x7fffffff]),
          lrValue: at(now + (rng.next() | 0) * 1000),
        }));
        part.keyExpiration = at(now - 1000);
        how = `${part.lastReq.length} last-req entries, keyExpiration past`;
        break;
      case 'ticket': {
        const which = rng.pick(['empty-cipher', 'huge-cipher', 'tkt-etype', 'huge-kvno'] as const);
        const ticket = rep.ticket;
        if (which === 'empty-cipher') outer = { ...rep, ticket: { ...ticket, encPart: { ...ticket.encPart, cipher: new Uint8Array(0) } } };
        else if (which === 'huge-cipher')
          outer = { ...rep, ticket: { ...ticket, encPart: { ...ticket.encPart, cipher: rng.bytes(rng.pick([4096, 60_000, 300_000])) } } };
        else if (which === 'tkt-etype') outer = { ...rep, ticket: { ...ticket, encPart: { ...ticket.encPart, etype: rng.pick([0, 1, 23, -1]) } } };
        else outer = { ...rep, ticket: { ...ticket, encPart: { ...ticket.encPart, kvno: 0xffffffff } } };
        how = `the ticket: ${which}`;
        break;
      }
      case 'kvno':
        outer = { ...rep, encPart: { ...rep.encPart, kvno: rng.pick([0, 0xffffffff, 0x7fffffff]) } };
        how = `the enc-part's kvno ${outer.encPart.kvno}`;
        break;
      case 'padata': {
        const padata: PaData[] = Array.from({ length: rng.range(1, 60) }, () => ({
          padataType: rng.pick([PA_TYPE.ETYPE_INFO2, PA_TYPE.PAC_REQUEST, 3, 0, -1, 0x7fffffff]),
          padataValue: rng.chance(0.5) ? rng.bytes(rng.length(64)) : safeEtypeInfo2(hostileEntries(rng)),
        }));
        outer = { ...rep, padata };
        how = `${padata.length} PA-DATA in the reply`;
        break;
      }
      case 'caddr':
        part.caddr = Array.from({ length: rng.range(0, 40) }, () => ({ addrType: rng.pick([2, 24, 0, -1]), address: rng.bytes(rng.length(32)) }));
        part.encryptedPaData = [{ padataType: rng.pick([0, 149, -1]), padataValue: rng.bytes(rng.length(32)) }];
        how = `${part.caddr.length} client addresses, encrypted-pa-data`;
        break;
      default:
        plaintext = concatBytes(packEncKdcRepPart(part), rng.bytes(rng.range(1, 40)));
        how = 'bytes after the EncKDCRepPart inside the ciphertext';
    }
    try {
      return { bytes: this.sealed(outer, part, key, usage, plaintext), strategy: 'fields', mutation: how, mustReject: false, expectOk: false, tainted: [] };
    } catch (error) {
      // The packer refused the value (outside its type): the same change written raw is a DER-level one, left to those.
      return {
        bytes: honest,
        strategy: 'fields',
        mutation: `${how}: not packable (${(error as Error).message}); the real reply`,
        mustReject: false,
        expectOk: false,
        tainted: [],
      };
    }
  }

  /** DER-level changes inside the enc-part's plaintext, sealed right: hostile structure behind a valid seal. */
  private innerDer(rng: Rng, step: RogueStep, req: KdcReq, honest: Uint8Array): Hostile | undefined {
    const o = this.opened(step, req, honest);
    if (o === undefined) return undefined;
    const plain = packEncKdcRepPart(o.part);
    const m = rng.chance(0.8) ? derMutation(rng, plain, undefined) : { bytes: deeplyNested(0x79, rng.pick([100, 5000, 50_000])), mutation: 'deep nesting' };
    return {
      bytes: this.sealed(o.rep, o.part, o.key, o.usage, m.bytes),
      strategy: 'inner-der',
      mutation: `inside the sealed enc-part: ${m.mutation}`,
      mustReject: false,
      expectOk: false,
      tainted: [],
    };
  }

  /** KDC_ERR_PREAUTH_REQUIRED (or PREAUTH_FAILED) with hostile ETYPE-INFO2 in its METHOD-DATA. */
  private etypeInfo(rng: Rng, req: KdcReq): Omit<Hostile, 'strategy' | 'expectOk' | 'tainted'> {
    const code = rng.chance(0.85) ? KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED : KRB_ERROR_CODE.KDC_ERR_PREAUTH_FAILED;
    const shape = rng.weighted<string>([
      [6, 'entries'],
      [1, 'garbage-value'],
      [1, 'two-etype-info2'],
      [1, 'none'],
      [1, 'random-method-data'],
    ]);
    let eData: Uint8Array;
    let how: string;
    if (shape === 'entries') {
      const entries = hostileEntries(rng);
      eData = packMethodData([
        { padataType: PA_TYPE.ETYPE_INFO2, padataValue: safeEtypeInfo2(entries) },
        { padataType: PA_TYPE.ENC_TIMESTAMP, padataValue: new Uint8Array(0) },
      ]);
      how = `ETYPE-INFO2 ${describeEntries(entries)}`;
    } else if (shape === 'garbage-value') {
      eData = packMethodData([{ padataType: PA_TYPE.ETYPE_INFO2, padataValue: rng.bytes(rng.length(200)) }]);
      how = 'ETYPE-INFO2 of random bytes';
    } else if (shape === 'two-etype-info2') {
      const a = hostileEntries(rng);
      eData = packMethodData([
        { padataType: PA_TYPE.ETYPE_INFO2, padataValue: safeEtypeInfo2(a) },
        { padataType: PA_TYPE.ETYPE_INFO2, padataValue: safeEtypeInfo2([{ etype: 18, salt: ROGUE_SALT }]) },
      ]);
      how = `two ETYPE-INFO2s, the first ${describeEntries(a)}`;
    } else if (shape === 'none') {
      eData = packMethodData([{ padataType: PA_TYPE.ENC_TIMESTAMP, padataValue: new Uint8Array(0) }]);
      how = 'no ETYPE-INFO2';
    } else {
      const n = rng.pick([0, 1, 64, 65, 500]);
      eData = tlv(
        0x30,
        ...Array.from({ length: n }, () => tlv(0x30, tlv(0xa1, tlv(0x02, Uint8Array.of(rng.int(256)))), tlv(0xa2, tlv(0x04, rng.bytes(rng.length(16)))))),
      );
      how = `METHOD-DATA of ${n} entries, raw`;
    }
    return {
      bytes: this.refusal(req, code, 'rogue', eData),
      mutation: `${code === KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED ? 'KDC_ERR_PREAUTH_REQUIRED' : 'KDC_ERR_PREAUTH_FAILED'}: ${how}`,
      mustReject: false,
    };
  }

  /** A KRB-ERROR of any code, with e-text and e-data of any shape. */
  private anyError(rng: Rng, req: KdcReq): Omit<Hostile, 'strategy' | 'expectOk' | 'tainted'> {
    const code = rng.chance(0.85) ? rng.pick(Object.values(KRB_ERROR_CODE)) : rng.pick([0, -1, 100, 0x7fffffff, -0x80000000, 1000]);
    const eData = rng.weighted<Uint8Array | undefined>([
      [3, undefined],
      [2, rng.bytes(rng.length(300))],
      [1, packMethodData([{ padataType: PA_TYPE.ETYPE_INFO2, padataValue: safeEtypeInfo2(hostileEntries(rng)) }])],
      [1, deeplyNested(0x30, rng.pick([10, 1000, 20_000]))],
    ]);
    const text = rng.chance(0.2) ? 'x'.repeat(rng.pick([0, 1000, 40_000])) : `rogue error ${code}`;
    try {
      return {
        bytes: this.refusal(req, code, text, eData),
        mutation: `KRB-ERROR ${code}, e-text ${text.length} chars, e-data ${eData?.length ?? 'none'}`,
        mustReject: false,
      };
    } catch (error) {
      return {
        bytes: this.refusal(req, KRB_ERROR_CODE.KRB_ERR_GENERIC, 'rogue'),
        mutation: `KRB-ERROR ${code} not packable (${(error as Error).message}): KRB_ERR_GENERIC`,
        mustReject: false,
      };
    }
  }
}

/** ETYPE-INFO2 entries as a lying KDC writes them: unknown etypes, huge or odd salts, s2kparams of any length and count. */
function hostileEntries(rng: Rng): EtypeInfo2Entry[] {
  const n = rng.pick([1, 1, 2, 3, 10, 64]);
  return Array.from({ length: n }, (_, i) => {
    const etype = rng.chance(0.5) && i === n - 1 ? 18 : rng.pick([0, 1, 3, 16, 17, 18, 19, 20, 23, 24, 25, 26, -1, 0x7fffffff, -0x80000000]);
    const entry: EtypeInfo2Entry = { etype };
    const salt = rng.weighted<string | undefined>([
      [3, ROGUE_SALT],
      [1, undefined],
      [1, ''],
      [1, 'x'.repeat(rng.pick([1000, 10_000, 60_000]))],
      [1, 'é\u0000\uffff'],
    ]);
    if (salt !== undefined) entry.salt = salt;
    const params = rng.weighted<Uint8Array | undefined>([
      [3, undefined],
      [1, new Uint8Array(0)],
      [1, Uint8Array.of(0, 0, 0x10, 0)],
      [1, Uint8Array.of(0, 0, 0, 0)],
      [1, Uint8Array.of(0, 0, 0, 1)],
      [0.3, Uint8Array.of(0, 0xff, 0xff, 0xff)],
      [0.2, Uint8Array.of(0, 0x0f, 0x42, 0x40)],
      [0.3, Uint8Array.of(0, 0x0f, 0x42, 0x41)],
      [1, Uint8Array.of(1, 0, 0, 0)],
      [1, Uint8Array.of(0xff, 0xff, 0xff, 0xff)],
      [1, rng.bytes(rng.pick([1, 3, 5, 8, 100]))],
    ]);
    if (params !== undefined) entry.s2kparams = params;
    return entry;
  });
}

function describeEntries(entries: readonly EtypeInfo2Entry[]): string {
  return entries
    .slice(0, 4)
    .map(
      (e) =>
        `(${e.etype}, salt ${e.salt === undefined ? 'none' : e.salt.length > 20 ? `${e.salt.length} chars` : JSON.stringify(e.salt)}, s2kparams ${e.s2kparams === undefined ? 'none' : toHex(e.s2kparams.subarray(0, 8))})`,
    )
    .join(' ')
    .concat(entries.length > 4 ? ` and ${entries.length - 4} more` : '');
}

/** ETYPE-INFO2's DER, or raw DER when the packer refuses (too many entries, say). */
function safeEtypeInfo2(entries: readonly EtypeInfo2Entry[]): Uint8Array {
  try {
    return packEtypeInfo2(entries);
  } catch {
    return tlv(0x30, ...entries.map((e) => tlv(0x30, tlv(0xa0, tlv(0x02, Uint8Array.of(e.etype & 0x7f))))));
  }
}

/** The ciphertext (hex) of the ticket in a KDC-REP's bytes, if it reads. */
function ticketsOf(bytes: Uint8Array): string[] {
  try {
    return [hexOf(unpackKdcRep(bytes).ticket.encPart.cipher)];
  } catch {
    return [];
  }
}
