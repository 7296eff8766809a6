// Tickets from a KDC for the tests of the machines and commands that run one (a domain controller,
// `sspi-emu dc`): the Kerberos package's own KDC client (packages/kerberos/kdc-client.ts over its
// transport), the one client in the tree, with string-to-key in this thread. A failure rejects
// with a KdcFailure carrying the SSPI status the package would answer and its reason.

import { statusName } from '../../headers/status.js';
import { stringToKey } from '../../packages/kerberos/crypto/index.js';
import { KdcClient, kdcCall, newClientSecret } from '../../packages/kerberos/kdc-client.js';
import { clientPrincipal, targetPrincipal } from '../../packages/kerberos/names.js';
import { parseSettings } from '../../packages/kerberos/settings.js';
import { isFailure, type KerberosFailure } from '../../packages/kerberos/statuses.js';
import type { CachedTicket } from '../../packages/kerberos/tickets.js';

export class KdcFailure extends Error {
  readonly status: string;
  readonly krbError: number | undefined;

  constructor(failure: KerberosFailure) {
    super(`${statusName(failure.status)}: ${failure.reason}`);
    this.status = statusName(failure.status);
    this.krbError = failure.krbError;
  }
}

export interface KdcTickets {
  /** The AS exchange: a TGT for `user` with `password`. */
  tgt(user: string, password: string): Promise<CachedTicket>;
  /** The TGS exchange: a ticket for `service` ("host/server.example.test") with `tgt`. */
  serviceTicket(tgt: CachedTicket, service: string): Promise<CachedTicket>;
}

/** The package's KDC client for the KDC at `address`, over UDP first (short requests) or TCP only. */
export function kdcTickets(address: { host: string; port: number }, realm: string, transport: 'udp' | 'tcp' = 'tcp'): KdcTickets {
  const settings = parseSettings({ realm, kdc: `${address.host}:${address.port}`, ...(transport === 'tcp' ? { udpPreferenceLimit: 1 } : {}) });
  const client = new KdcClient(
    settings,
    () => new Date(),
    async (etype, password, salt, params) => stringToKey(etype, password, salt, params),
  );
  const settled = (got: CachedTicket | KerberosFailure): CachedTicket => {
    if (isFailure(got)) throw new KdcFailure(got);
    return got;
  };
  return {
    tgt: async (user, password) => settled(await client.asExchange(newClientSecret(clientPrincipal(user, '', realm)!, password), kdcCall(settings))),
    serviceTicket: async (tgt, service) => settled(await client.tgsExchange(tgt, targetPrincipal(service, realm)!, kdcCall(settings))),
  };
}
