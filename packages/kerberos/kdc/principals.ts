// Principal names as the KDC keeps them: components and a realm, written "host/server@REALM"
// (RFC 1964 2.1.1's string form, without its backslash escapes: a component holding "/" or "@"
// cannot be named here). Lookups ignore case, as Windows' KDC does (MIT's is case-sensitive); the
// names go back to the client as it sent them, so that MIT's client, which compares what it asked
// for with what it got, finds them equal.

import { KRB_NT } from '../messages/index.js';
import { KdcError } from './errors.js';

export interface ParsedPrincipal {
  components: string[];
  /** The realm written after "@", or undefined when none was. */
  realm: string | undefined;
}

/** The longest component or realm taken (a DNS name is at most 253 characters; Windows' SPNs are shorter). */
const MAX_COMPONENT = 255;
const MAX_COMPONENTS = 8;

/** "host/server.example.test@EXAMPLE.TEST", "alice", "krbtgt/EXAMPLE.TEST": components and realm. KdcError BAD_CONFIG when it is not one. */
export function parsePrincipal(text: string): ParsedPrincipal {
  if (typeof text !== 'string' || text.length === 0) throw new KdcError('BAD_CONFIG', 'a principal name is a non-empty string');
  const at = text.lastIndexOf('@');
  const name = at >= 0 ? text.slice(0, at) : text;
  const realm = at >= 0 ? text.slice(at + 1) : undefined;
  const components = name.split('/');
  if (realm !== undefined) checkRealm(realm);
  if (components.length > MAX_COMPONENTS) throw new KdcError('BAD_CONFIG', `${JSON.stringify(text)} has more than ${MAX_COMPONENTS} components`);
  for (const c of components) checkComponent(c, text);
  return { components, realm };
}

function checkComponent(component: string, whole: string): void {
  if (component.length === 0) throw new KdcError('BAD_CONFIG', `${JSON.stringify(whole)} has an empty component`);
  if (component.length > MAX_COMPONENT) throw new KdcError('BAD_CONFIG', `${JSON.stringify(whole)} has a component longer than ${MAX_COMPONENT}`);
  if (/[\u0000-\u001f\u007f@]/.test(component)) throw new KdcError('BAD_CONFIG', `${JSON.stringify(whole)} has a control character or "@" in a component`);
}

/** A realm the KDC can serve: DNS-like, non-empty, no "/", "@", spaces or control characters. */
export function checkRealm(realm: string): string {
  if (typeof realm !== 'string' || realm.length === 0 || realm.length > MAX_COMPONENT || /[\u0000-\u0020\u007f/@:]/.test(realm))
    throw new KdcError('BAD_CONFIG', `${JSON.stringify(realm)} is not a realm name (letters, digits, dots and dashes, such as EXAMPLE.TEST)`);
  return realm;
}

/** The key a principal is found under: its components, case folded, one "/" between. */
export function principalKey(components: readonly string[]): string {
  return components.map((c) => c.toLowerCase()).join('/');
}

/** "host/server.example.test@EXAMPLE.TEST", for logs and e-text. */
export function formatPrincipal(components: readonly string[], realm: string): string {
  return `${components.join('/')}@${realm}`;
}

/** The default salt (RFC 4120 4: the realm followed by each component, nothing between): "EXAMPLE.TESTalice". */
export function defaultSalt(realm: string, components: readonly string[]): string {
  return realm + components.join('');
}

/** The name type a principal's name carries when the KDC names it itself: services by host, the TGS as a service instance. */
export function nameTypeOf(components: readonly string[]): number {
  if (components.length === 2 && components[0]!.toLowerCase() === 'krbtgt') return KRB_NT.SRV_INST;
  return components.length === 2 ? KRB_NT.SRV_HST : KRB_NT.PRINCIPAL;
}

/** Whether a name is a ticket-granting service's, krbtgt/REALM (of any realm). */
export function isTgsName(components: readonly string[]): boolean {
  return components.length === 2 && components[0]!.toLowerCase() === 'krbtgt';
}

/** Realms compare without case, as principal names here (Windows' rule; a realm is its DNS domain). */
export function sameRealm(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
