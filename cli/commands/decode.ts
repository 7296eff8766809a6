// `sspi-emu decode TOKEN`: an NTLM message or a SPNEGO token (base64 or hex, or "-" to read it
// from stdin) spelled out field by field: for NTLM type, flags by name, names, AV pairs by name,
// NTProofStr, MIC, version; for SPNEGO the NegTokenInit, NegTokenInit2 or NegTokenResp fields with
// the NTLM message inside decoded. `--json` prints the same description as data. A token that does
// not parse is exit status 1 with the parser's reason and the byte offset of the problem.

import { DerError } from '../../packages/negotiate/wire.js';
import { NtlmParseError } from '../../packages/ntlm/wire.js';
import { describeToken, formatToken } from '../tokens.js';
import { parseCommand } from '../options.js';
import { UsageError } from '../usage.js';

export async function decode(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, 1);
  if (positionals.length === 0) throw new UsageError('decode needs a TOKEN (base64 or hex, or - for stdin)');
  const text = positionals[0] === '-' ? await readStdin() : positionals[0]!;

  const bytes = tokenBytes(text);
  if (bytes === undefined) {
    process.stderr.write('sspi-emu decode: the token is neither base64 nor hex\n');
    return 1;
  }
  try {
    const description = describeToken(bytes);
    process.stdout.write((values.json ? JSON.stringify(description, null, 2) : formatToken(description)) + '\n');
    return 0;
  } catch (error) {
    if (error instanceof DerError) {
      process.stderr.write(`sspi-emu decode: not a valid SPNEGO token: ${error.message} (${error.code} at byte offset ${error.offset} of ${bytes.length})\n`);
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
