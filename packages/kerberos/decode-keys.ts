// `sspi-emu decode` with keys, as Wireshark decrypts Kerberos with a keytab: the long-term keys a
// user gives (MIT keytab entries, raw keys, passwords turned into keys with the principal's default
// salt) open the encrypted parts of a message with the key usage RFC 4120 7.5.1 names for each
// part, and the keys those parts carry (a ticket's session key, an authenticator's subkey, an
// AS-REP's session key) open the parts that follow in the same token (ticket -> authenticator).
// The plaintexts are described field by field, keys in hex: a debugging tool shows what the user's
// long-term key unlocks. A wrong key is an integrity failure and the part stays "not opened"; a
// plaintext that does not parse after decryption is shown with the DER error at its offset.

import { DerError, EmuError } from '../kit/index.js';
import {
  decrypt,
  encryptionTypeInfo,
  isSupportedEtype,
  KerberosCryptoError,
  KEY_USAGE,
  stringToKey,
  SUPPORTED_ETYPES,
  type EncryptionKey,
} from './crypto/index.js';
import { GSS_C, GSS_CHECKSUM_TYPE, isZero, unpackGssChecksum } from './gss-checksum.js';
import type { KeytabEntry } from './keytab.js';
import {
  AD_TYPE,
  describeKerberosToken,
  KRB_NT,
  LR_TYPE,
  TICKET_FLAGS,
  unpackAuthenticator,
  unpackAuthorizationData,
  unpackEncApRepPart,
  unpackEncKdcRepPart,
  unpackEncKrbCredPart,
  unpackEncTicketPart,
  unpackKrbCred,
  unpackPaEncTsEnc,
  type AuthorizationDataEntry,
  type EncryptedData,
  type KerberosTokenDescription,
} from './messages/index.js';
import {
  describeAddresses,
  describeFlags,
  describeKrbCred,
  describePadata,
  describePrincipal,
  describeTime,
  type EncryptedPartKind,
  type JsonValue,
  type PartOpener,
} from './messages/decode.js';
import { defaultSalt, formatPrincipal, splitPrincipal } from './names.js';

type Fields = { [key: string]: JsonValue };

/** A key `decode` may try, and the words that say where it came from. */
export interface DecodeKey {
  readonly key: EncryptionKey;
  /** "keytab entry HTTP/web01@EXAMPLE.TEST kvno 2 aes256-cts-hmac-sha1-96", "password of alice@EXAMPLE.TEST (aes256-...)". */
  readonly source: string;
  /** The key version number, when the key's origin knows it (keytab entries). */
  readonly kvno?: number;
}

/** A key given on the command line that cannot be a key: its text and why. */
export class DecodeKeyError extends EmuError<'BAD_KEY'> {
  override readonly name = 'DecodeKeyError';

  constructor(message: string) {
    super('BAD_KEY', message);
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** "aes256-cts-hmac-sha1-96" for 18; the number alone for an etype this cryptosystem lacks. */
export function etypeName(etype: number): string {
  return isSupportedEtype(etype) ? encryptionTypeInfo(etype).name : String(etype);
}

/** An etype by number ("18") or MIT name ("aes256-cts-hmac-sha1-96"), as the package's etypes setting takes them. */
export function parseEtype(text: string): number {
  const byName = SUPPORTED_ETYPES.find((e) => encryptionTypeInfo(e).name === text.toLowerCase());
  if (byName !== undefined) return byName;
  const number = /^\d{1,10}$/.test(text) ? Number(text) : undefined;
  if (number !== undefined && isSupportedEtype(number)) return number;
  throw new DecodeKeyError(`${JSON.stringify(text)} is not a supported encryption type (${SUPPORTED_ETYPES.map((e) => `${encryptionTypeInfo(e).name} or ${e}`).join(', ')})`);
}

/** A keytab's entries as keys; entries of etypes this cryptosystem lacks are left out (they could open nothing). */
export function keytabDecodeKeys(entries: readonly KeytabEntry[]): DecodeKey[] {
  return entries
    .filter((e) => isSupportedEtype(e.key.keytype))
    .map((e) => ({
      key: { keytype: e.key.keytype, keyvalue: e.key.keyvalue },
      kvno: e.kvno,
      source: `keytab entry ${formatPrincipal({ nameType: e.principal.nameType, nameString: e.principal.components }, e.principal.realm)} kvno ${e.kvno} ${etypeName(e.key.keytype)}`,
    }));
}

/** "ETYPE:HEX": a raw key, its length checked against the etype's. */
export function rawDecodeKey(spec: string): DecodeKey {
  const colon = spec.indexOf(':');
  if (colon <= 0) throw new DecodeKeyError(`--key ${JSON.stringify(spec)} is not ETYPE:HEX`);
  const etype = parseEtype(spec.slice(0, colon));
  const text = spec.slice(colon + 1);
  const { keyBytes, name } = encryptionTypeInfo(etype);
  if (!/^([0-9a-f]{2})*$/i.test(text) || text.length !== keyBytes * 2)
    throw new DecodeKeyError(`--key ${name}: the key is ${keyBytes} bytes, ${keyBytes * 2} hex digits, not ${JSON.stringify(text)}`);
  return { key: { keytype: etype, keyvalue: Uint8Array.from(Buffer.from(text, 'hex')) }, source: `key ${name} ${text.slice(0, 8)}...` };
}

/** "PRINCIPAL@REALM:PASSWORD": the principal's keys of every supported etype, with its default salt (RFC 4120 4). */
export function passwordDecodeKeys(spec: string): DecodeKey[] {
  const colon = spec.indexOf(':');
  const split = colon <= 0 ? undefined : splitPrincipal(spec.slice(0, colon));
  if (split === undefined || split.realm === undefined)
    throw new DecodeKeyError(`--password ${JSON.stringify(colon <= 0 ? spec : spec.slice(0, colon))} is not PRINCIPAL@REALM:PASSWORD`);
  const name = { nameType: KRB_NT.PRINCIPAL, nameString: split.components };
  const password = spec.slice(colon + 1);
  const who = formatPrincipal(name, split.realm);
  return SUPPORTED_ETYPES.map((etype) => ({
    key: stringToKey(etype, password, defaultSalt(name, split.realm!)),
    source: `password of ${who} (${etypeName(etype)})`,
  }));
}

/** The key usages that may have sealed each part (RFC 4120 7.5.1), in the order tried. */
const USAGES: Readonly<Record<EncryptedPartKind, readonly number[]>> = {
  EncTicketPart: [KEY_USAGE.KDC_REP_TICKET],
  Authenticator: [KEY_USAGE.AP_REQ_AUTHENTICATOR],
  'TGS-REQ Authenticator': [KEY_USAGE.TGS_REQ_AUTHENTICATOR],
  EncAPRepPart: [KEY_USAGE.AP_REP_ENC_PART],
  EncASRepPart: [KEY_USAGE.AS_REP_ENC_PART],
  EncTGSRepPart: [KEY_USAGE.TGS_REP_ENC_PART_SUBKEY, KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY],
  EncKrbCredPart: [KEY_USAGE.KRB_CRED_ENC_PART],
  'PA-ENC-TIMESTAMP': [KEY_USAGE.AS_REQ_PA_ENC_TIMESTAMP],
  AuthorizationData: [KEY_USAGE.TGS_REQ_AD_SUBKEY, KEY_USAGE.TGS_REQ_AD_SESSION_KEY],
};

/** Parts sealed with a long-term key, whose EncryptedData names its kvno: keys of that kvno are tried first. */
const LONG_TERM: ReadonlySet<EncryptedPartKind> = new Set(['EncTicketPart', 'EncASRepPart', 'PA-ENC-TIMESTAMP']);

function reverse(table: Readonly<Record<string, number>>): Map<number, string> {
  return new Map(Object.entries(table).map(([name, value]) => [value, name]));
}
const AD_TYPES = reverse(AD_TYPE);
const LR_TYPES = reverse(LR_TYPE);

function keyFields(key: EncryptionKey): Fields {
  return { keytype: `${key.keytype} (${etypeName(key.keytype)})`, keyvalue: hex(key.keyvalue) };
}

function authorizationData(list: AuthorizationDataEntry[]): JsonValue {
  return list.map((ad) => {
    const name = AD_TYPES.get(ad.adType);
    return { adType: name === undefined ? ad.adType : `${ad.adType} (AD-${name.replace(/_/g, '-')})`, adData: hex(ad.adData) };
  });
}

/** GSS_C_MUTUAL_FLAG, ...: the 0x8003 checksum's flags by name. */
function gssFlags(value: number): string {
  const names = Object.entries(GSS_C)
    .filter(([, bit]) => (value & bit) !== 0)
    .map(([name]) => `GSS_C_${name}_FLAG`);
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}${names.length === 0 ? '' : ` (${names.join(', ')})`}`;
}

/**
 * An opener over `keys` for one token: it tries the keys the part's etype allows, learned keys
 * (from earlier parts of the token) first for session-keyed parts and keys of the part's kvno
 * first for long-term ones, with each usage the part may have.
 */
export function keyOpener(keys: readonly DecodeKey[]): PartOpener {
  const learned: DecodeKey[] = [];

  const candidates = (part: EncryptedData, kind: EncryptedPartKind): DecodeKey[] => {
    const ofEtype = (list: readonly DecodeKey[]): DecodeKey[] => list.filter((k) => k.key.keytype === part.etype);
    if (LONG_TERM.has(kind)) {
      const given = ofEtype(keys);
      const sameKvno = given.filter((k) => part.kvno !== undefined && k.kvno === part.kvno);
      return [...sameKvno, ...given.filter((k) => !sameKvno.includes(k)), ...ofEtype(learned)];
    }
    return [...ofEtype(learned), ...ofEtype(keys)];
  };

  const open: PartOpener = (part, kind): Fields => {
    if (kind === 'EncKrbCredPart' && part.etype === 0) {
      // GSS-API delegation often sends the EncKrbCredPart in the clear (etype 0, RFC 4121 4.1.1 allows it).
      return { status: 'not encrypted (etype 0)', plaintext: describePlaintext(part.cipher, kind) };
    }
    const tried = candidates(part, kind);
    const what = `etype ${part.etype}${isSupportedEtype(part.etype) ? ` (${etypeName(part.etype)})` : ''}${part.kvno === undefined ? '' : ` kvno ${part.kvno}`}`;
    if (tried.length === 0) return { status: `not opened: no key given for ${what}` };
    for (const candidate of tried)
      for (const usage of USAGES[kind]) {
        let plaintext: Uint8Array;
        try {
          plaintext = decrypt(candidate.key, usage, part.cipher);
        } catch (error) {
          if (error instanceof KerberosCryptoError) {
            // A ciphertext too short for the etype fails the same way with every key: say so once.
            if (error.code === 'BAD_LENGTH') return { status: `not opened: ${error.message}` };
            continue; // BAD_INTEGRITY: not this key, or not this usage
          }
          throw error;
        }
        return { status: `decrypted with ${candidate.source} (key usage ${usage})`, plaintext: describePlaintext(plaintext, kind) };
      }
    return { status: `not opened: no key opened it (${tried.length} key${tried.length === 1 ? '' : 's'} of ${what} tried, key usage ${USAGES[kind].join(' or ')})` };
  };

  const learn = (key: EncryptionKey, source: string): void => {
    if (isSupportedEtype(key.keytype)) learned.push({ key, source });
  };

  /** The plaintext described field by field; a DER error names its offset in the plaintext. */
  const describePlaintext = (plaintext: Uint8Array, kind: EncryptedPartKind): JsonValue => {
    try {
      return plaintextFields(plaintext, kind);
    } catch (error) {
      if (!(error instanceof DerError)) throw error;
      return {
        error: `not a valid ${kind}: ${error.message} (${error.code} at byte offset ${error.offset} of the ${plaintext.length}-byte plaintext)`,
        bytes: hex(plaintext),
      };
    }
  };

  const plaintextFields = (plaintext: Uint8Array, kind: EncryptedPartKind): JsonValue => {
    switch (kind) {
      case 'EncTicketPart': {
        const p = unpackEncTicketPart(plaintext);
        learn(p.key, `the session key of the ticket of ${formatPrincipal(p.cname, p.crealm)}`);
        const out: Fields = { flags: describeFlags(p.flags, TICKET_FLAGS), key: keyFields(p.key), cname: describePrincipal(p.cname, p.crealm) };
        out.transited = { trType: p.transited.trType, contents: hex(p.transited.contents) };
        out.authtime = describeTime(p.authtime);
        if (p.starttime !== undefined) out.starttime = describeTime(p.starttime);
        out.endtime = describeTime(p.endtime);
        if (p.renewTill !== undefined) out.renewTill = describeTime(p.renewTill);
        if (p.caddr !== undefined) out.caddr = describeAddresses(p.caddr);
        if (p.authorizationData !== undefined) out.authorizationData = authorizationData(p.authorizationData);
        return out;
      }
      case 'Authenticator':
      case 'TGS-REQ Authenticator': {
        const a = unpackAuthenticator(plaintext);
        const out: Fields = { cname: describePrincipal(a.cname, a.crealm) };
        if (a.cksum !== undefined) out.cksum = a.cksum.cksumtype === GSS_CHECKSUM_TYPE ? gssChecksum(a.cksum.checksum) : { cksumtype: a.cksum.cksumtype, checksum: hex(a.cksum.checksum) };
        out.cusec = a.cusec;
        out.ctime = describeTime(a.ctime);
        if (a.subkey !== undefined) {
          out.subkey = keyFields(a.subkey);
          learn(a.subkey, 'the subkey of the authenticator');
        }
        if (a.seqNumber !== undefined) out.seqNumber = a.seqNumber;
        if (a.authorizationData !== undefined) out.authorizationData = authorizationData(a.authorizationData);
        return out;
      }
      case 'EncAPRepPart': {
        const p = unpackEncApRepPart(plaintext);
        const out: Fields = { ctime: describeTime(p.ctime), cusec: p.cusec };
        if (p.subkey !== undefined) {
          out.subkey = keyFields(p.subkey);
          learn(p.subkey, "the acceptor's subkey of the EncAPRepPart");
        }
        if (p.seqNumber !== undefined) out.seqNumber = p.seqNumber;
        return out;
      }
      case 'EncASRepPart':
      case 'EncTGSRepPart': {
        const p = unpackEncKdcRepPart(plaintext);
        learn(p.key, `the session key of the ${p.kind}`);
        const out: Fields = { tag: p.kind, key: keyFields(p.key) };
        out.lastReq = p.lastReq.map((l) => ({ lrType: LR_TYPES.get(Math.abs(l.lrType)) === undefined ? l.lrType : `${l.lrType} (${LR_TYPES.get(Math.abs(l.lrType))})`, lrValue: describeTime(l.lrValue) }));
        out.nonce = p.nonce;
        if (p.keyExpiration !== undefined) out.keyExpiration = describeTime(p.keyExpiration);
        out.flags = describeFlags(p.flags, TICKET_FLAGS);
        out.authtime = describeTime(p.authtime);
        if (p.starttime !== undefined) out.starttime = describeTime(p.starttime);
        out.endtime = describeTime(p.endtime);
        if (p.renewTill !== undefined) out.renewTill = describeTime(p.renewTill);
        out.sname = describePrincipal(p.sname, p.srealm);
        if (p.caddr !== undefined) out.caddr = describeAddresses(p.caddr);
        if (p.encryptedPaData !== undefined) out.encryptedPaData = describePadata(p.encryptedPaData);
        return out;
      }
      case 'EncKrbCredPart': {
        const p = unpackEncKrbCredPart(plaintext);
        const out: Fields = {
          ticketInfo: p.ticketInfo.map((i) => {
            const info: Fields = { key: keyFields(i.key) };
            if (i.pname !== undefined) info.pname = describePrincipal(i.pname, i.prealm);
            if (i.flags !== undefined) info.flags = describeFlags(i.flags, TICKET_FLAGS);
            if (i.authtime !== undefined) info.authtime = describeTime(i.authtime);
            if (i.starttime !== undefined) info.starttime = describeTime(i.starttime);
            if (i.endtime !== undefined) info.endtime = describeTime(i.endtime);
            if (i.renewTill !== undefined) info.renewTill = describeTime(i.renewTill);
            if (i.sname !== undefined) info.sname = describePrincipal(i.sname, i.srealm);
            if (i.caddr !== undefined) info.caddr = describeAddresses(i.caddr);
            return info;
          }),
        };
        if (p.nonce !== undefined) out.nonce = p.nonce;
        if (p.timestamp !== undefined) out.timestamp = describeTime(p.timestamp);
        if (p.usec !== undefined) out.usec = p.usec;
        if (p.sAddress !== undefined) out.sAddress = describeAddresses([p.sAddress]);
        if (p.rAddress !== undefined) out.rAddress = describeAddresses([p.rAddress]);
        return out;
      }
      case 'PA-ENC-TIMESTAMP': {
        const ts = unpackPaEncTsEnc(plaintext);
        return { patimestamp: describeTime(ts.patimestamp), ...(ts.pausec === undefined ? {} : { pausec: ts.pausec }) };
      }
      case 'AuthorizationData':
        return authorizationData(unpackAuthorizationData(plaintext));
    }
  };

  /** RFC 4121 4.1.1's structured checksum: the channel bindings' hash, the flags, a delegated KRB-CRED. */
  const gssChecksum = (bytes: Uint8Array): JsonValue => {
    const c = unpackGssChecksum(bytes);
    if (typeof c === 'string') return { cksumtype: `${GSS_CHECKSUM_TYPE} (0x8003, GSS-API)`, error: c, checksum: hex(bytes) };
    const out: Fields = {
      cksumtype: `${GSS_CHECKSUM_TYPE} (0x8003, GSS-API)`,
      bindings: isZero(c.bindingsHash) ? `${hex(c.bindingsHash)} (none)` : hex(c.bindingsHash),
      flags: gssFlags(c.flags),
    };
    if (c.delegation !== undefined) {
      try {
        out.delegation = describeKrbCred(unpackKrbCred(c.delegation), open);
      } catch (error) {
        if (!(error instanceof DerError)) throw error;
        out.delegation = `${hex(c.delegation)} (not a valid KRB-CRED: ${error.message}, ${error.code} at byte offset ${error.offset})`;
      }
    }
    return out;
  };

  return open;
}

/** describeKerberosToken with the encrypted parts opened where `keys` (and what they unlock) can. */
export function describeKerberosTokenWithKeys(bytes: Uint8Array, keys: readonly DecodeKey[]): KerberosTokenDescription {
  return describeKerberosToken(bytes, keyOpener(keys));
}
