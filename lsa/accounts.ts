// The LSA's account store, its SAM: the accounts packages authenticate against. Passwords live
// here and nowhere else; packages read them through OpenSamUser/GetUserCredentials (in the LSA)
// and derive what they need (NT hashes, protocol keys) without it ever leaving the LSA thread.

import { PRIMARY_CRED_CLEAR_PASSWORD, type SecpkgPrimaryCred } from '../headers/index.js';
import { HandleMap } from '../ipc/index.js';

export interface Account {
  /** The user name as configured (its case is kept for display). */
  user: string;
  /** The account's domain; for a local account the computer name. */
  domain: string;
  password: string;
}

/** Parses "user:password" or "DOMAIN\\user:password" (the CLI's --account form). */
export function parseAccount(spec: string, defaultDomain: string): Account {
  const colon = spec.indexOf(':');
  if (colon <= 0) throw new Error(`account ${JSON.stringify(spec)} is not USER:PASSWORD or DOMAIN\\USER:PASSWORD`);
  const name = spec.slice(0, colon);
  const password = spec.slice(colon + 1);
  const slash = name.indexOf('\\');
  const user = slash >= 0 ? name.slice(slash + 1) : name;
  const domain = slash >= 0 ? name.slice(0, slash) : defaultDomain;
  if (user.length === 0) throw new Error(`account ${JSON.stringify(spec)} has an empty user name`);
  return { user, domain, password };
}

export class AccountStore {
  private readonly byUser = new Map<string, Account>();
  /** Open SAM handles: one per NTLM logon a server checks, opened and closed within it (a HandleMap: tables that churn are). */
  private readonly open = new HandleMap<Account>();
  private nextHandle = 1;

  constructor(accounts: readonly Account[]) {
    for (const account of accounts) this.byUser.set(account.user.toLowerCase(), account);
  }

  get size(): number {
    return this.byUser.size;
  }

  /**
   * Finds an account by "user", "DOMAIN\\user" or "user@domain". As on a standalone Windows
   * server, a local account is found whatever domain name the caller gives; names are
   * case-insensitive.
   */
  find(name: string): Account | undefined {
    let user = name;
    const slash = name.lastIndexOf('\\');
    if (slash >= 0) user = name.slice(slash + 1);
    else {
      const at = name.indexOf('@');
      if (at > 0) user = name.slice(0, at);
    }
    return this.byUser.get(user.toLowerCase());
  }

  /** OpenSamUser: a handle to an account, or undefined when there is none. */
  openUser(name: string): number | undefined {
    const account = this.find(name);
    if (account === undefined) return undefined;
    const handle = this.nextHandle++;
    this.open.set(handle, account);
    return handle;
  }

  /**
   * GetUserCredentials: the account's primary credentials, for the LSA's packages only; undefined
   * for a handle that is not open. A package may pass anything: what is not a number is no handle
   * (the HandleMap hashes numbers only, and a bigint or a symbol throws there).
   */
  userCredentials(handle: number, logonId: bigint): SecpkgPrimaryCred | undefined {
    if (typeof handle !== 'number') return undefined;
    const account = this.open.get(handle);
    if (account === undefined) return undefined;
    return { LogonId: logonId, DownlevelName: account.user, DomainName: account.domain, Password: account.password, Flags: PRIMARY_CRED_CLEAR_PASSWORD };
  }

  closeUser(handle: number): boolean {
    return typeof handle === 'number' && this.open.delete(handle);
  }

  get openHandles(): number {
    return this.open.size;
  }
}
