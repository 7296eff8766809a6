// A realm for the Kerberos package's tests: a local MIT KDC (test/helpers/mit-kdc.ts) with alice
// (a password), bob, and the service host/localhost (a random key, exported to a keytab with
// kadmin's ktadd), and the package settings of a machine in it. Tests call mitKdcMissing() first
// and skip, saying so, when MIT's KDC is not installed.

import { join } from 'node:path';
import { MitKdc, type MitPrincipal } from './mit-kdc.js';

export { mitKdcMissing } from './mit-kdc.js';

export const ALICE_PASSWORD = 'Alice-pw-1';
export const BOB_PASSWORD = 'Bob-pw-22';
export const SERVICE = 'host/localhost';

export interface Realm {
  kdc: MitKdc;
  realm: string;
  /** The keytab holding host/localhost's keys. */
  keytab: string;
  /** packageSettings.kerberos of a machine in the realm (a server with the keytab, when `withKeytab`). */
  settings(extra?: Record<string, unknown>, withKeytab?: boolean): Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startRealm(options: { principals?: MitPrincipal[]; tcp?: boolean } = {}): Promise<Realm> {
  const kdc = await MitKdc.start({
    principals: [{ name: 'alice', password: ALICE_PASSWORD }, { name: 'bob', password: BOB_PASSWORD }, { name: SERVICE }, ...(options.principals ?? [])],
    ...(options.tcp === undefined ? {} : { tcp: options.tcp }),
  });
  const keytab = join(kdc.dir, 'service.keytab');
  await kdc.kadmin(`ktadd -k ${keytab} ${SERVICE}`);
  return {
    kdc,
    realm: kdc.realm,
    keytab,
    settings: (extra = {}, withKeytab = true) => ({ realm: kdc.realm, kdc: `127.0.0.1:${kdc.port}`, ...(withKeytab ? { keytab } : {}), ...extra }),
    stop: () => kdc.stop(),
  };
}
