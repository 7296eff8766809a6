// The acceptor's long-term keys: what opens a service ticket. Two sources, as a member server has
// them:
//   - a keytab (settings.keytab): MIT's format, what kadmin's ktadd or `sspi-emu dc --export-keytab`
//     writes; read again at each inbound AcquireCredentialsHandle, the last good copy kept when the
//     file cannot be read then;
//   - the LSA's account store (settings.services): for each service principal named there, the
//     account of that name's password, through string-to-key with the default salt (the realm, then
//     the name's components), once per etype, on the work pool. This is how a domain's member will
//     hold its machine account's keys.
// A ticket's key is looked up by the ticket's service name, realm and etype; the key version
// number picks among a keytab's keys of one etype when it matches one.

import { readFile } from 'node:fs/promises';
import { SECPKG_NAME_TYPE, isSuccess, type LsaSecpkgFunctionTable } from '../../headers/index.js';
import { wipeKey, type EncryptionKey } from './crypto/index.js';
import type { DeriveKey } from './kdc-client.js';
import type { KeytabEntry } from './keytab.js';
import { defaultSalt, formatPrincipal, splitPrincipal, type Principal } from './names.js';
import { readKeytabFile, type KerberosSettings } from './settings.js';
import { unpackKeytab } from './keytab.js';

export class ServiceKeys {
  private readonly settings: KerberosSettings;
  private readonly lsa: () => LsaSecpkgFunctionTable;
  private readonly deriveKey: DeriveKey;
  private keytab: KeytabEntry[];
  /** Keys derived from the account store, by principal and etype. */
  private readonly derived = new Map<string, EncryptionKey>();

  constructor(settings: KerberosSettings, lsa: () => LsaSecpkgFunctionTable, deriveKey: DeriveKey) {
    this.settings = settings;
    this.lsa = lsa;
    this.deriveKey = deriveKey;
    this.keytab = settings.keytab === undefined ? [] : readKeytabFile(settings.keytab);
  }

  /** Reads the keytab again (a key added since is found); the last good copy stays when it cannot be read now. */
  async refresh(): Promise<void> {
    if (this.settings.keytab === undefined) return;
    try {
      this.keytab = unpackKeytab(await readFile(this.settings.keytab));
    } catch {
      // kept: the file was good at SpInitialize, and a rotation half-written must not lose every key
    }
  }

  /** Whether this machine can accept anything at all: a realm, and a keytab entry or an account-store service. */
  get any(): boolean {
    return this.settings.realm !== undefined && (this.keytab.length > 0 || this.settings.services.length > 0);
  }

  /** Whether keys for `principal` may exist here (an inbound credential acquired for one principal). */
  holds(principal: Principal): boolean {
    return this.keytab.some((e) => matches(e, principal)) || this.serviceNamed(principal) !== undefined;
  }

  /**
   * The keys that may open a ticket for `server` of `etype`: the keytab's (the kvno's first when it
   * matches one), then the account store's. They are the keys held here, not copies, so that each
   * keeps its derived keys (crypto/key-schedule.ts) from one ticket to the next instead of deriving
   * them again for every AP-REQ: the caller reads them and never changes them.
   */
  async lookup(server: Principal, etype: number, kvno: number | undefined): Promise<EncryptionKey[]> {
    // The etype is the peer's word (the ticket's enc-part): one this machine does not accept has no
    // key here, and no key is derived for it (deriving one for an etype the cryptosystem lacks threw).
    if (!this.settings.etypes.includes(etype)) return [];
    const entries = this.keytab.filter((e) => e.key.keytype === etype && matches(e, server));
    const exact = kvno === undefined ? [] : entries.filter((e) => e.kvno === kvno || (e.kvno & 0xff) === kvno);
    const ordered = [...exact, ...entries.filter((e) => !exact.includes(e)).sort((a, b) => b.kvno - a.kvno)];
    const keys: EncryptionKey[] = ordered.map((e) => e.key);
    const service = this.serviceNamed(server);
    if (service !== undefined) {
      const key = await this.accountKey(service, server, etype);
      if (key !== undefined) keys.push(key);
    }
    return keys;
  }

  /** Zeroes what is held (SpShutdown). */
  wipe(): void {
    for (const e of this.keytab) wipeKey(e.key);
    for (const k of this.derived.values()) wipeKey(k);
    this.derived.clear();
  }

  /** The settings' service name that is `principal` (realm this machine's, the name compared without case). */
  private serviceNamed(principal: Principal): string | undefined {
    if (this.settings.realm === undefined || principal.realm.toUpperCase() !== this.settings.realm.toUpperCase()) return undefined;
    const wanted = formatPrincipal(principal.name).toLowerCase();
    return this.settings.services.find((s) => {
      const split = splitPrincipal(s);
      return split !== undefined && formatPrincipal({ nameType: 0, nameString: split.components }).toLowerCase() === wanted;
    });
  }

  private async accountKey(service: string, server: Principal, etype: number): Promise<EncryptionKey | undefined> {
    const id = `${service.toLowerCase()}:${etype}`;
    const known = this.derived.get(id);
    if (known !== undefined) return known;
    const lsa = this.lsa();
    const opened = lsa.OpenSamUser(service, SECPKG_NAME_TYPE.SecNameSamCompatible, null, false, 0);
    if (!isSuccess(opened.status) || opened.UserHandle === undefined) return undefined;
    let password: string | undefined;
    try {
      password = lsa.GetUserCredentials(opened.UserHandle).PrimaryCreds?.Password;
    } finally {
      lsa.CloseSamUser(opened.UserHandle);
    }
    if (password === undefined) return undefined;
    const split = splitPrincipal(service)!;
    const key = await this.deriveKey(etype, password, defaultSalt({ nameType: 0, nameString: split.components }, server.realm), undefined);
    this.derived.set(id, key);
    return key;
  }
}

/** A keytab entry for `principal`: the realm exactly, the components exactly (MIT's krb5_kt_get_entry). */
function matches(entry: KeytabEntry, principal: Principal): boolean {
  const p = entry.principal;
  return (
    p.realm === principal.realm &&
    p.components.length === principal.name.nameString.length &&
    p.components.every((c, i) => c === principal.name.nameString[i])
  );
}
