// What tools use of Kerberos (`sspi-emu decode`, the HTML view's token decoders, the tests, later
// `sspi-emu dc --export-keytab`): the describer of its messages and the MIT keytab format. The
// messages themselves are messages/index.ts, the cryptosystem crypto/index.ts.

export { describeKerberosToken, formatKerberosToken, isKerberosToken, type KerberosTokenDescription } from './messages/index.js';
// `decode` with keys: the keys a user gives (keytab, raw, password) opening the encrypted parts.
export {
  DecodeKeyError,
  describeKerberosTokenWithKeys,
  keytabDecodeKeys,
  passwordDecodeKeys,
  rawDecodeKey,
  type DecodeKey,
} from './decode-keys.js';
export { readKeytabFile } from './settings.js';
export { KEYTAB_VERSION, KeytabError, packKeytab, unpackKeytab, type KeytabEntry, type KeytabErrorCode, type KeytabPrincipal } from './keytab.js';
// The requests a client sends a KDC and the reading of its answers, for tools that load a KDC
// without the package (the bench's KDC rows, bench/domain.ts): the package's own functions, so
// that there is still one client's way of making requests in the tree.
export { asRequest, encTimestamp, openKdcReply, readKdcAnswer, tgsRequest, type KdcAnswer, type KdcCredentials } from './kdc-requests.js';
export { isFailure, type KerberosFailure } from './statuses.js';
