// SEC_WINNT_AUTH_IDENTITY_W marshalled into one flat buffer, the way the SSPI library hands
// explicit credentials to the LSA: the structure's seven ULONGs (section 1.4), with the three
// string pointers replaced by offsets from the buffer's start, followed by the UTF-16LE strings.
//
//   0 User offset      4 UserLength (chars)      8 Domain offset   12 DomainLength
//  16 Password offset 20 PasswordLength (chars) 24 Flags           28 strings...

import { SEC_WINNT_AUTH_IDENTITY_UNICODE, type SecWinntAuthIdentity } from '../headers/index.js';

const HEADER_BYTES = 28;
/** The NTLM/Negotiate limits of [DOC-w32]: user 256, password 256, domain 15 (we allow 256). */
const MAX_CHARS = 256;

export function packAuthIdentity(identity: SecWinntAuthIdentity): Uint8Array {
  const user = Buffer.from(identity.User, 'utf16le');
  const domain = Buffer.from(identity.Domain, 'utf16le');
  const password = Buffer.from(identity.Password, 'utf16le');
  const out = new Uint8Array(HEADER_BYTES + user.length + domain.length + password.length);
  const view = new DataView(out.buffer);
  let offset = HEADER_BYTES;
  for (const [i, field] of [user, domain, password].entries()) {
    view.setUint32(i * 8, offset, true);
    view.setUint32(i * 8 + 4, field.length / 2, true);
    out.set(field, offset);
    offset += field.length;
  }
  view.setUint32(24, identity.Flags ?? SEC_WINNT_AUTH_IDENTITY_UNICODE, true);
  return out;
}

/** The identity in a marshalled buffer, or undefined when any offset or length is out of range. */
export function unpackAuthIdentity(bytes: Uint8Array): SecWinntAuthIdentity | undefined {
  if (bytes.byteLength < HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: string[] = [];
  for (let i = 0; i < 3; i++) {
    const offset = view.getUint32(i * 8, true);
    const chars = view.getUint32(i * 8 + 4, true);
    if (chars > MAX_CHARS || offset < HEADER_BYTES || offset + chars * 2 > bytes.byteLength) return undefined;
    fields.push(Buffer.from(bytes.buffer, bytes.byteOffset + offset, chars * 2).toString('utf16le'));
  }
  return { User: fields[0]!, Domain: fields[1]!, Password: fields[2]!, Flags: view.getUint32(24, true) };
}
