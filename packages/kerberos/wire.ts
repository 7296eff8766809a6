// What tools use of Kerberos (`sspi-emu decode`, the HTML view's token decoders, the tests, later
// `sspi-emu dc --export-keytab`): the describer of its messages and the MIT keytab format. The
// messages themselves are messages/index.ts, the cryptosystem crypto/index.ts.

export { describeKerberosToken, formatKerberosToken, isKerberosToken, type KerberosTokenDescription } from './messages/index.js';
export { KEYTAB_VERSION, KeytabError, packKeytab, unpackKeytab, type KeytabEntry, type KeytabErrorCode, type KeytabPrincipal } from './keytab.js';
