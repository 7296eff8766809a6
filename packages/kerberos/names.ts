// Principal names as people and applications write them, and as Kerberos carries them:
//
//   alice, alice@EXAMPLE.TEST          a user (KRB_NT_PRINCIPAL), the realm after the last unescaped @
//   host/server.example.test[@REALM]   a service principal name (KRB_NT_SRV_INST), as Windows' SPNs
//   host@server                        GSS-API's host-based service form (KRB_NT_SRV_HST, RFC 2743
//                                      4.1), MIT's gss_import_name: the host lower-cased
//
// The text form is MIT's (krb5_unparse_name): components joined by "/", "@" and the realm, and a
// backslash before a "/", "@" or "\" inside a component.

import { KRB_NT, type PrincipalName } from './messages/index.js';

export interface Principal {
  readonly name: PrincipalName;
  readonly realm: string;
}

/** krb5_unparse_name: "host/server@REALM", with "/", "@" and "\" escaped inside components. */
export function formatPrincipal(name: PrincipalName, realm?: string): string {
  const escape = (s: string): string => s.replace(/[\\/@]/g, (c) => `\\${c}`);
  const text = name.nameString.map(escape).join('/');
  return realm === undefined ? text : `${text}@${escape(realm)}`;
}

/** Splits MIT's text form into components and an optional realm; undefined for an empty component or a trailing backslash. */
export function splitPrincipal(text: string): { components: string[]; realm: string | undefined } | undefined {
  const components: string[] = [];
  let current = '';
  let realm: string | undefined;
  let inRealm = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      if (i + 1 >= text.length) return undefined;
      current += text[++i]!;
    } else if (c === '/' && !inRealm) {
      components.push(current);
      current = '';
    } else if (c === '@' && !inRealm) {
      components.push(current);
      current = '';
      inRealm = true;
    } else current += c;
  }
  if (inRealm) realm = current;
  else components.push(current);
  if (components.length === 0 || components.some((c) => c.length === 0) || realm === '') return undefined;
  return { components, realm };
}

/** Whether two principals are the same: the realm and every component exactly, the name type aside (krb5_principal_compare). */
export function samePrincipal(a: PrincipalName, aRealm: string, b: PrincipalName, bRealm: string): boolean {
  return (
    aRealm === bRealm &&
    a.nameString.length === b.nameString.length &&
    a.nameString.every((component, i) => component === b.nameString[i])
  );
}

/**
 * The principal InitializeSecurityContext's target name names, in `realm` unless it names its
 * own: "host/server" and "host/server@REALM" (an SPN), "host@server" (GSS host-based), or a bare
 * name (a principal of one component). Undefined for an empty or malformed name.
 */
export function targetPrincipal(target: string | null, realm: string): Principal | undefined {
  if (target === null) return undefined;
  const text = target.trim();
  if (text.length === 0) return undefined;
  if (!/(^|[^\\])\//.test(text) && /(^|[^\\])@/.test(text)) {
    // service@host: GSS_C_NT_HOSTBASED_SERVICE, the host part lower-cased as MIT's krb5_sname_to_principal does.
    const at = text.lastIndexOf('@');
    const service = text.slice(0, at);
    const host = text.slice(at + 1).toLowerCase();
    if (service.length === 0 || host.length === 0 || service.includes('@')) return undefined;
    return { name: { nameType: KRB_NT.SRV_HST, nameString: [service, host] }, realm };
  }
  const split = splitPrincipal(text);
  if (split === undefined) return undefined;
  const nameType = split.components.length > 1 ? KRB_NT.SRV_INST : KRB_NT.PRINCIPAL;
  return { name: { nameType, nameString: split.components }, realm: split.realm ?? realm };
}

/**
 * The client principal explicit credentials (or a logon) name, in the machine's realm: "alice" with
 * an empty domain, a domain that is the realm or its first label (EXAMPLE for EXAMPLE.TEST, the
 * NetBIOS name Windows would map), or alice@REALM as the user. Undefined when the domain names another
 * realm or a workgroup (a local account): there is no KDC for it, and the caller answers
 * SEC_E_NO_AUTHENTICATING_AUTHORITY, as Windows does for an account its KDCs do not hold.
 */
export function clientPrincipal(user: string, domain: string, realm: string): Principal | undefined {
  let name = user;
  let named = domain;
  const at = user.lastIndexOf('@');
  if (at > 0 && domain === '') {
    name = user.slice(0, at);
    named = user.slice(at + 1);
  }
  if (name.length === 0 || !inRealm(named, realm)) return undefined;
  const split = splitPrincipal(name);
  if (split === undefined || split.realm !== undefined) return undefined;
  return { name: { nameType: KRB_NT.PRINCIPAL, nameString: split.components }, realm };
}

/** Whether a domain name given with an account is this realm: empty, the realm itself, or its first label (any case). */
export function inRealm(domain: string, realm: string): boolean {
  if (domain === '') return true;
  const upper = domain.toUpperCase();
  const realmUpper = realm.toUpperCase();
  return upper === realmUpper || upper === realmUpper.split('.')[0];
}

/** MIT's and Windows' default salt for a principal's password (RFC 4120 4: the realm, then each component). */
export function defaultSalt(name: PrincipalName, realm: string): string {
  return realm + name.nameString.join('');
}

/** krbtgt/REALM@REALM, the ticket-granting service (RFC 4120 7.3). */
export function tgsPrincipal(realm: string): PrincipalName {
  return { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', realm] };
}
