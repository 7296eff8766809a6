// `sspi-emu decode TOKEN`: an NTLM message, a SPNEGO token or a Kerberos message (base64 or hex,
// or "-" to read it from stdin) spelled out field by field: for NTLM type, flags by name, names,
// AV pairs by name, NTProofStr, MIC, version; for SPNEGO the NegTokenInit, NegTokenInit2 or
// NegTokenResp fields with the NTLM or Kerberos token inside decoded; for Kerberos the message's
// fields (names, flags, times, pre-authentication data, error codes by name), bare or in its
// GSS-API framing. Kerberos' encrypted parts stay encrypted unless keys are given, as Wireshark
// takes a keytab: --keytab FILE (MIT keytab entries), --key ETYPE:HEX (a raw key), --password
// PRINCIPAL@REALM:PASSWORD (string-to-key with the default salt); each part is then shown with the
// key that opened it and its plaintext, or as "not opened" and why. `--json` prints the same
// description as data. A token that does not parse is exit status 1 with the parser's reason and
// the byte offset of the problem; so is a keytab that cannot be read; a malformed --key or
// --password is a usage error (2). Parts that no key opens are not an error (exit 0).

import {
  DecodeKeyError,
  isKerberosToken,
  keytabDecodeKeys,
  passwordDecodeKeys,
  rawDecodeKey,
  readKeytabFile,
  type DecodeKey,
} from '../../packages/kerberos/wire.js';
import { DerError, isSpnegoToken } from '../../packages/negotiate/wire.js';
import { NtlmParseError } from '../../packages/ntlm/wire.js';
import { describeToken, formatToken } from '../tokens.js';
import { parseCommand, repeated } from '../options.js';
import { UsageError } from '../usage.js';

export async function decode(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' }, ...repeated('keytab', 'key', 'password') }, 1);
  if (positionals.length === 0) throw new UsageError('decode needs a TOKEN (base64 or hex, or - for stdin)');
  const keys: DecodeKey[] = [];
  try {
    for (const spec of values.key ?? []) keys.push(rawDecodeKey(spec));
    for (const spec of values.password ?? []) keys.push(...passwordDecodeKeys(spec));
  } catch (error) {
    if (error instanceof DecodeKeyError) throw new UsageError(error.message);
    throw error;
  }
  for (const file of values.keytab ?? []) {
    try {
      keys.push(...keytabDecodeKeys(readKeytabFile(file)));
    } catch (error) {
      process.stderr.write(`sspi-emu decode: ${(error as Error).message}\n`);
      return 1;
    }
  }
  const text = positionals[0] === '-' ? await readStdin() : positionals[0]!;

  const bytes = tokenBytes(text);
  if (bytes === undefined) {
    process.stderr.write('sspi-emu decode: the token is neither base64 nor hex\n');
    return 1;
  }
  try {
    const description = describeToken(bytes, keys);
    process.stdout.write((values.json ? JSON.stringify(description, null, 2) : formatToken(description)) + '\n');
    return 0;
  } catch (error) {
    if (error instanceof DerError) {
      const what = isKerberosToken(bytes) && !isSpnegoToken(bytes) ? 'Kerberos message' : 'SPNEGO token';
      process.stderr.write(`sspi-emu decode: not a valid ${what}: ${error.message} (${error.code} at byte offset ${error.offset} of ${bytes.length})\n`);
      return 1;
    }
    if (!(error instanceof NtlmParseError)) throw error;
    process.stderr.write(`sspi-emu decode: not a valid NTLM message: ${error.message} (${error.code} at byte offset ${error.offset} of ${bytes.length})\n`);
    return 1;
  }
}

/**
 * The token's bytes: hex (pairs of hex digits, optionally spaced) or base64 (standard or
 * URL-safe), after an optional HTTP scheme ("NTLM " or "Negotiate "), as a WWW-Authenticate
 * header carries it. Text that is valid hex is hex: "00ff" is two bytes, not base64's three (a
 * real NTLM message in base64 starts "TlRM", which is not hex).
 */
export function tokenBytes(text: string): Uint8Array | undefined {
  const token = text.trim().replace(/^(NTLM|Negotiate)\s+/i, '');
  const compact = token.replace(/\s+/g, '');
  if (compact.length === 0) return undefined;
  if (/^([0-9a-f]{2})+$/i.test(compact)) return Uint8Array.from(Buffer.from(compact, 'hex'));
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || /^[A-Za-z0-9_-]+$/.test(compact)) {
    const bytes = Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
    if (bytes.length > 0) return Uint8Array.from(bytes);
  }
  return undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
