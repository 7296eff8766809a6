// The KDC's account database: what Active Directory keeps for each security principal that
// Kerberos needs (its name, its key version number, its long-term keys for each encryption type,
// the salt they were made with, whether it must pre-authenticate), for users, services and the
// ticket-granting service itself (krbtgt/REALM).
//
// Keys made from a password cost a string-to-key each (PBKDF2: 1 to 18 ms by etype), as Windows
// spends them when a password is set. The database derives them in the background, a bounded
// number at a time, through the deriver it is given (the LSA's: its work pool), so that the KDC
// listens at once; a request for a principal whose keys are not made yet waits for them, and its
// principal goes to the head of the queue.

import { isSupportedEtype, makeRandomKey, SUPPORTED_ETYPES, type EncryptionKey } from '../crypto/index.js';
import type { KeytabEntry } from '../keytab.js';
import { KRB_NT } from '../messages/index.js';
import { KdcError } from './errors.js';
import { checkRealm, defaultSalt, formatPrincipal, isTgsName, nameTypeOf, principalKey } from './principals.js';

export type KdcPrincipalKind = 'user' | 'service' | 'krbtgt';

/** One principal as configured: its keys come from `password` (with `salt`) or are given (`keys`). */
export interface KdcPrincipalSpec {
  /** "alice" is ["alice"], "host/server.example.test" ["host", "server.example.test"]. */
  components: string[];
  kind: KdcPrincipalKind;
  password?: string;
  /** Keys given as they are (random keys, keys from a keytab): their etypes are the principal's. */
  keys?: EncryptionKey[];
  /** The salt of a password's keys; default the realm's: REALM followed by the components. */
  salt?: string;
  /** Key version number, 1 to 2^32-1; default 1. */
  kvno?: number;
  /** Encryption types to make keys for, in the order the KDC prefers them; default KDC_DEFAULT_ETYPES. */
  etypes?: number[];
  /** Whether an AS-REQ for it needs PA-ENC-TIMESTAMP (Windows' default; "Do not require Kerberos preauthentication" turns it off). Default true. */
  requiresPreauth?: boolean;
}

/**
 * The etypes a principal gets keys for when none are named, in the order the KDC prefers them for
 * tickets: aes256-cts-hmac-sha1-96 first (Windows' and MIT's default), then aes128, then RFC 8009's.
 */
export const KDC_DEFAULT_ETYPES: readonly number[] = Object.freeze([...SUPPORTED_ETYPES]);

/** string-to-key, wherever it runs: the LSA's work pool in a domain controller, inline in a test. */
export type KeyDeriver = (etype: number, password: string, salt: string) => Promise<EncryptionKey>;

/** Keys derived at once in the background (the work pool queues the rest). */
const DERIVE_CONCURRENCY = 4;

export class KdcPrincipal {
  readonly components: readonly string[];
  readonly kind: KdcPrincipalKind;
  readonly kvno: number;
  readonly salt: string;
  /** The etypes it has keys for, the KDC's preference first. */
  readonly etypes: readonly number[];
  readonly requiresPreauth: boolean;
  readonly nameType: number;
  private keys: Map<number, EncryptionKey> | null = null;
  private failure: Error | null = null;
  private derivation: Promise<void> | null = null;
  private readonly make: (() => Promise<Map<number, EncryptionKey>>) | null;

  constructor(
    spec: Required<Pick<KdcPrincipalSpec, 'components' | 'kind' | 'kvno' | 'salt' | 'etypes' | 'requiresPreauth'>>,
    keys: Map<number, EncryptionKey> | (() => Promise<Map<number, EncryptionKey>>),
  ) {
    this.components = Object.freeze([...spec.components]);
    this.kind = spec.kind;
    this.kvno = spec.kvno;
    this.salt = spec.salt;
    this.etypes = Object.freeze([...spec.etypes]);
    this.requiresPreauth = spec.requiresPreauth;
    this.nameType = spec.kind === 'user' ? KRB_NT.PRINCIPAL : nameTypeOf(spec.components);
    if (keys instanceof Map) {
      this.keys = keys;
      this.make = null;
    } else this.make = keys;
  }

  get name(): string {
    return this.components.join('/');
  }

  /** Whether its keys are made (or failed to be). */
  get settled(): boolean {
    return this.keys !== null || this.failure !== null;
  }

  get failed(): Error | null {
    return this.failure;
  }

  /** Starts making its keys if nothing has yet; resolves when they are made or failed. */
  derive(): Promise<void> {
    if (this.make === null || this.derivation !== null) return this.derivation ?? Promise.resolve();
    this.derivation = this.make().then(
      (keys) => {
        this.keys = keys;
      },
      (error: unknown) => {
        this.failure = error instanceof Error ? error : new Error(String(error));
      },
    );
    return this.derivation;
  }

  /** Its keys, made first if need be; rejects with why they could not be made. */
  async ready(): Promise<ReadonlyMap<number, EncryptionKey>> {
    if (this.keys === null && this.failure === null) await this.derive();
    if (this.keys === null) throw this.failure ?? new Error(`no keys for ${this.name}`);
    return this.keys;
  }

  /** Its keys if they are made, else null (no waiting). */
  keysNow(): ReadonlyMap<number, EncryptionKey> | null {
    return this.keys;
  }
}

export interface KdcDatabaseProgress {
  principals: number;
  /** Principals whose keys are made. */
  ready: number;
  /** Principals whose keys could not be made (their requests are refused). */
  failed: number;
}

export class KdcDatabase {
  /** The realm as configured (replies echo the realm the client wrote). */
  readonly realm: string;
  readonly krbtgt: KdcPrincipal;
  private readonly byName = new Map<string, KdcPrincipal>();
  private readonly all: KdcPrincipal[] = [];
  private derived: Promise<void> = Promise.resolve();

  private constructor(realm: string, principals: KdcPrincipal[]) {
    this.realm = realm;
    for (const p of principals) {
      const key = principalKey(p.components);
      if (this.byName.has(key)) throw new KdcError('BAD_CONFIG', `${formatPrincipal(p.components, realm)} is named twice`);
      this.byName.set(key, p);
      this.all.push(p);
    }
    const krbtgt = this.byName.get(principalKey(['krbtgt', realm]));
    if (krbtgt === undefined || krbtgt.kind !== 'krbtgt') throw new KdcError('BAD_CONFIG', `the database has no krbtgt/${realm}`);
    this.krbtgt = krbtgt;
  }

  /**
   * A database over `specs` (krbtgt/REALM among them), whose password keys `derive` makes in the
   * background from now on. KdcError BAD_CONFIG for a spec that cannot be used, naming it.
   */
  static open(realm: string, specs: readonly KdcPrincipalSpec[], derive: KeyDeriver): KdcDatabase {
    checkRealm(realm);
    const db = new KdcDatabase(
      realm,
      specs.map((spec) => principalOf(realm, spec, derive)),
    );
    db.derived = db.pump();
    return db;
  }

  /** Checks `specs` as open would (KdcError BAD_CONFIG naming the first problem), deriving nothing. */
  static check(realm: string, specs: readonly KdcPrincipalSpec[]): void {
    checkRealm(realm);
    const never: KeyDeriver = () => Promise.reject(new Error('a checked database derives no keys'));
    new KdcDatabase(
      realm,
      specs.map((spec) => principalOf(realm, spec, never)),
    );
  }

  /** The principal named by these components (case ignored), if any. */
  lookup(components: readonly string[]): KdcPrincipal | undefined {
    return this.byName.get(principalKey(components));
  }

  get size(): number {
    return this.all.length;
  }

  progress(): KdcDatabaseProgress {
    let ready = 0;
    let failed = 0;
    for (const p of this.all) {
      if (p.keysNow() !== null) ready++;
      else if (p.failed !== null) failed++;
    }
    return { principals: this.all.length, ready, failed };
  }

  /** Resolves once every principal's keys are made or failed. */
  whenDerived(): Promise<void> {
    return this.derived;
  }

  /**
   * MIT keytab entries for the principals `which` picks (default: the services), each of its
   * keys: what `ktpass` or `kadmin ktadd -norandkey` would write for an acceptor.
   */
  async keytab(which: (p: KdcPrincipal) => boolean = (p) => p.kind === 'service', timestamp = Math.floor(Date.now() / 1000)): Promise<KeytabEntry[]> {
    const entries: KeytabEntry[] = [];
    for (const p of this.all.filter(which)) {
      const keys = await p.ready();
      for (const etype of p.etypes) {
        const key = keys.get(etype)!;
        entries.push({
          // MIT's kadmin writes KRB5_NT_PRINCIPAL whatever the name; acceptors compare names without their type.
          principal: { realm: this.realm, components: [...p.components], nameType: KRB_NT.PRINCIPAL },
          timestamp,
          kvno: p.kvno,
          key: { keytype: key.keytype, keyvalue: new Uint8Array(key.keyvalue) },
        });
      }
    }
    return entries;
  }

  /** Makes every principal's keys, DERIVE_CONCURRENCY principals at a time, in order (a request moves its principal ahead). */
  private async pump(): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < this.all.length) await this.all[next++]!.derive();
    };
    await Promise.all(Array.from({ length: DERIVE_CONCURRENCY }, lane));
  }
}

/** A spec checked and made into a principal (its password keys to be derived). */
function principalOf(realm: string, spec: KdcPrincipalSpec, derive: KeyDeriver): KdcPrincipal {
  const components = spec.components;
  if (!Array.isArray(components) || components.length === 0 || components.some((c) => typeof c !== 'string' || c.length === 0))
    throw new KdcError('BAD_CONFIG', `a principal's name is one or more non-empty components, not ${JSON.stringify(components)}`);
  const name = formatPrincipal(components, realm);
  if (spec.kind !== 'user' && spec.kind !== 'service' && spec.kind !== 'krbtgt')
    throw new KdcError('BAD_CONFIG', `${name}: kind is user, service or krbtgt, not ${JSON.stringify(spec.kind)}`);
  if (spec.kind === 'krbtgt' && !isTgsName(components)) throw new KdcError('BAD_CONFIG', `${name}: a krbtgt principal is named krbtgt/REALM`);
  if (spec.kind !== 'krbtgt' && isTgsName(components))
    throw new KdcError('BAD_CONFIG', `${name}: krbtgt/... names the ticket-granting service, not a ${spec.kind}`);
  const kvno = spec.kvno ?? 1;
  if (!Number.isSafeInteger(kvno) || kvno < 1 || kvno > 0xffffffff)
    throw new KdcError('BAD_CONFIG', `${name}: kvno must be a whole number from 1 to 2^32-1, not ${String(kvno)}`);
  const salt = spec.salt ?? defaultSalt(realm, components);
  if (typeof salt !== 'string') throw new KdcError('BAD_CONFIG', `${name}: a salt is a string`);
  const requiresPreauth = spec.requiresPreauth ?? true;
  if (spec.password !== undefined && spec.keys !== undefined) throw new KdcError('BAD_CONFIG', `${name}: give a password or keys, not both`);
  if (spec.keys !== undefined) {
    const keys = new Map<number, EncryptionKey>();
    for (const key of spec.keys) {
      if (!isSupportedEtype(key.keytype)) throw new KdcError('BAD_CONFIG', `${name}: a key of etype ${String(key.keytype)}, which is not supported`);
      if (!(key.keyvalue instanceof Uint8Array) || key.keyvalue.length !== makeRandomKey(key.keytype).keyvalue.length)
        throw new KdcError('BAD_CONFIG', `${name}: its etype ${key.keytype} key has the wrong length`);
      if (keys.has(key.keytype)) throw new KdcError('BAD_CONFIG', `${name}: two keys of etype ${key.keytype}`);
      keys.set(key.keytype, { keytype: key.keytype, keyvalue: new Uint8Array(key.keyvalue) });
    }
    if (keys.size === 0) throw new KdcError('BAD_CONFIG', `${name}: no keys`);
    const etypes = preferred(spec.etypes, name).filter((e) => keys.has(e));
    for (const e of keys.keys()) if (!etypes.includes(e)) etypes.push(e);
    return new KdcPrincipal({ components, kind: spec.kind, kvno, salt, etypes, requiresPreauth }, keys);
  }
  if (typeof spec.password !== 'string') throw new KdcError('BAD_CONFIG', `${name}: needs a password or keys`);
  const password = spec.password;
  const etypes = preferred(spec.etypes, name);
  const make = async (): Promise<Map<number, EncryptionKey>> => {
    const keys = new Map<number, EncryptionKey>();
    for (const etype of etypes) keys.set(etype, await derive(etype, password, salt));
    return keys;
  };
  return new KdcPrincipal({ components, kind: spec.kind, kvno, salt, etypes, requiresPreauth }, make);
}

/** The etypes asked for, checked, or the default list. */
function preferred(asked: readonly number[] | undefined, name: string): number[] {
  if (asked === undefined) return [...KDC_DEFAULT_ETYPES];
  if (!Array.isArray(asked) || asked.length === 0) throw new KdcError('BAD_CONFIG', `${name}: etypes is a non-empty list`);
  for (const e of asked)
    if (!isSupportedEtype(e)) throw new KdcError('BAD_CONFIG', `${name}: etype ${String(e)} is not supported (${SUPPORTED_ETYPES.join(', ')})`);
  if (new Set(asked).size !== asked.length) throw new KdcError('BAD_CONFIG', `${name}: an etype named twice`);
  return [...asked];
}
