// HTTP authentication headers for NTLM and Negotiate over HTTP: RFC 4559 (section 4) for
// Negotiate, and the same convention under the scheme name "NTLM" as Windows (IIS, WinHTTP) and
// curl use it:
//
//   server  401  WWW-Authenticate: Negotiate            (both offered, Negotiate first, as IIS does)
//                WWW-Authenticate: NTLM
//   client       Authorization: NTLM <base64 NEGOTIATE_MESSAGE>      (or Negotiate <NegTokenInit>)
//   server  401  WWW-Authenticate: NTLM <base64 CHALLENGE_MESSAGE>   (the scheme the client chose)
//   client       Authorization: NTLM <base64 AUTHENTICATE_MESSAGE>   (same connection)
//   server  200  (Negotiate: with "WWW-Authenticate: Negotiate <final token>", RFC 4559 section 5)
//                or a final 401 with the bare schemes
//
// The authentication belongs to the connection, not to the request.
//
// Pure functions; a header is checked for length and alphabet before it is decoded.

export const NTLM_SCHEME = 'NTLM';
/** RFC 4559's scheme: SPNEGO tokens (or, from some clients, raw NTLMSSP ones) in base64. */
export const NEGOTIATE_SCHEME = 'Negotiate';

/** The token-carrying schemes this code speaks, spelt as they go on the wire. */
export type HttpAuthScheme = typeof NTLM_SCHEME | typeof NEGOTIATE_SCHEME;

/**
 * The scheme a package's tokens go under: "Negotiate" for Negotiate and for Kerberos (its raw
 * tokens, as IIS's "Negotiate:Kerberos" provider offers Kerberos alone under that scheme), "NTLM"
 * for NTLM and any other package.
 */
export function schemeOfPackage(packageName: string): HttpAuthScheme {
  const name = packageName.toLowerCase();
  return name === 'negotiate' || name === 'kerberos' ? NEGOTIATE_SCHEME : NTLM_SCHEME;
}

/** The longest Authorization header value taken (an NTLM AUTHENTICATE_MESSAGE is ~1-2 KB in base64). */
export const MAX_AUTHORIZATION_LENGTH = 16 * 1024;

export type Authorization =
  /** No Authorization header. */
  | { kind: 'none' }
  /** "NTLM <token>" with a well-formed base64 token. */
  | { kind: 'ntlm'; token: Uint8Array }
  /** "Negotiate <token>" with a well-formed base64 token. */
  | { kind: 'negotiate'; token: Uint8Array }
  /** Another scheme (Basic, Digest, ...): the server answers with its own challenges. */
  | { kind: 'other'; scheme: string }
  /** Not a credentials value (RFC 7235 section 2.1), or an NTLM or Negotiate token that is not base64. */
  | { kind: 'malformed'; reason: string };

// RFC 7230 section 3.2.6 token characters, for the scheme name.
const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A character code of RFC 4648's base64 alphabet (A-Z, a-z, 0-9, +, /). */
function base64Char(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2b || code === 0x2f;
}

/**
 * RFC 4648 section 4 base64 with padding, as RFC 4559 uses it (token68 in RFC 7235 terms): whole
 * groups of four, the last ending in "=" or "==" or neither. A loop over the codes: the regular
 * expression it replaces (/^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=)?$/) was
 * a visible part of an HTTP server's profile, on every token.
 */
export function isBase64(text: string): boolean {
  const n = text.length;
  if (n % 4 !== 0) return false;
  for (let i = 0; i < n - 2; i++) if (!base64Char(text.charCodeAt(i))) return false;
  if (n === 0) return true;
  const last = text.charCodeAt(n - 1);
  const before = text.charCodeAt(n - 2);
  if (base64Char(before)) return base64Char(last) || last === 0x3d;
  return before === 0x3d && last === 0x3d;
}

/** Parses an Authorization header value (node:http gives one string, or undefined). */
export function parseAuthorization(value: string | string[] | undefined): Authorization {
  if (value === undefined) return { kind: 'none' };
  if (Array.isArray(value)) return { kind: 'malformed', reason: 'more than one Authorization header' };
  if (value.length > MAX_AUTHORIZATION_LENGTH)
    return { kind: 'malformed', reason: `an Authorization header of ${value.length} characters (limit ${MAX_AUTHORIZATION_LENGTH})` };
  const trimmed = value.trim();
  const space = trimmed.search(/[ \t]/);
  const scheme = space < 0 ? trimmed : trimmed.slice(0, space);
  const credentials = space < 0 ? '' : trimmed.slice(space).trim();
  if (scheme.length === 0 || !TOKEN_CHARS.test(scheme)) return { kind: 'malformed', reason: 'the Authorization header does not start with a scheme name' };
  const known = schemeNamed(scheme);
  if (known === undefined) return { kind: 'other', scheme };
  if (credentials.length === 0) return { kind: 'malformed', reason: `${known} without a token` };
  if (!isBase64(credentials)) return { kind: 'malformed', reason: `the ${known} token is not base64 (RFC 4648, padded)` };
  // A copy of its own (Buffer.from's may be a view of node's shared pool): new Uint8Array copies at once, Uint8Array.from element by element.
  const token = new Uint8Array(Buffer.from(credentials, 'base64'));
  if (token.byteLength === 0) return { kind: 'malformed', reason: `an empty ${known} token` };
  return known === NTLM_SCHEME ? { kind: 'ntlm', token } : { kind: 'negotiate', token };
}

/** The scheme as this code spells it, for a name in any case (auth-scheme is case-insensitive, RFC 7235 2.1). */
function schemeNamed(name: string): HttpAuthScheme | undefined {
  const lower = name.toLowerCase();
  return lower === 'ntlm' ? NTLM_SCHEME : lower === 'negotiate' ? NEGOTIATE_SCHEME : undefined;
}

/** The WWW-Authenticate value: the bare scheme to start a handshake, with a token to continue one. */
export function wwwAuthenticate(token?: Uint8Array, scheme: HttpAuthScheme = NTLM_SCHEME): string {
  return token === undefined || token.byteLength === 0 ? scheme : `${scheme} ${Buffer.from(token).toString('base64')}`;
}

/** The Authorization value a client sends with a token. */
export function authorization(token: Uint8Array, scheme: HttpAuthScheme = NTLM_SCHEME): string {
  return `${scheme} ${Buffer.from(token).toString('base64')}`;
}

/**
 * The token a server's WWW-Authenticate header(s) carry under `scheme`: undefined when the scheme
 * is not offered, an empty array for the bare scheme (the server wants the client's first token),
 * the bytes otherwise. Headers are split at commas between challenges (RFC 7235 section 4.1); a
 * malformed token is reported as a string.
 */
export function schemeChallenge(values: string | string[] | undefined, scheme: HttpAuthScheme): Uint8Array | string | undefined {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  for (const value of list) {
    if (value.length > MAX_AUTHORIZATION_LENGTH) return `a WWW-Authenticate header of ${value.length} characters`;
    for (const part of value.split(',')) {
      const trimmed = part.trim();
      const space = trimmed.search(/[ \t]/);
      const name = space < 0 ? trimmed : trimmed.slice(0, space);
      if (schemeNamed(name) !== scheme) continue;
      const credentials = space < 0 ? '' : trimmed.slice(space).trim();
      if (credentials.length === 0) return new Uint8Array(0);
      if (!isBase64(credentials)) return `the ${scheme} challenge is not base64`;
      return new Uint8Array(Buffer.from(credentials, 'base64'));
    }
  }
  return undefined;
}

/** The NTLM token a server's WWW-Authenticate header(s) carry (schemeChallenge for NTLM). */
export function ntlmChallenge(values: string | string[] | undefined): Uint8Array | string | undefined {
  return schemeChallenge(values, NTLM_SCHEME);
}
