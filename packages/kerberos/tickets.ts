// Tickets as a client holds them (the ticket, its session key, who it is for and until when), and
// the ticket cache each client identity keeps in the LSA: a logon session's (dropped with the
// session, LsaApLogonTerminated) or an explicit credential's (dropped with the handle). Keys never
// leave the LSA; a context gets the subkeys of its own AP exchange only.
//
// One identity's concurrent calls share one AS exchange and one TGS exchange per service: the
// first call starts it, the others wait for the same answer (single-flight), so a burst of
// handshakes costs the KDC one request each, not one per handshake.

import { wipeKey, type EncryptionKey } from './crypto/index.js';
import type { Ticket } from './messages/index.js';
import { formatPrincipal, type Principal } from './names.js';
import { SEC_E_NO_CREDENTIALS } from '../../headers/index.js';
import { failure, type KerberosFailure } from './statuses.js';

export interface CachedTicket {
  readonly client: Principal;
  readonly server: Principal;
  readonly ticket: Ticket;
  readonly sessionKey: EncryptionKey;
  /** TicketFlags (TICKET_FLAGS). */
  readonly flags: number;
  readonly authtime: Date;
  readonly starttime: Date | undefined;
  readonly endtime: Date;
  readonly renewTill: Date | undefined;
}

/** A ticket is used until this long before it ends, so that it does not expire in flight. */
const END_MARGIN_MS = 30_000;

export function usable(ticket: CachedTicket, now: Date): boolean {
  const start = (ticket.starttime ?? ticket.authtime).getTime();
  return ticket.endtime.getTime() - END_MARGIN_MS > now.getTime() && start <= now.getTime() + END_MARGIN_MS;
}

/** Zeroes a ticket's session key and the keys derived from it (the ticket itself is the KDC's ciphertext). */
export function wipeTicket(ticket: CachedTicket): void {
  wipeKey(ticket.sessionKey);
}

type Getter = () => Promise<CachedTicket | KerberosFailure>;

/** The TGT and service tickets of one client identity. */
export class TicketCache {
  private tgt: CachedTicket | undefined;
  private pendingTgt: Promise<CachedTicket | KerberosFailure> | undefined;
  private readonly services = new Map<string, CachedTicket>();
  private readonly pendingServices = new Map<string, Promise<CachedTicket | KerberosFailure>>();
  /** Cleared for good: a ticket that arrives for a fetch begun before is wiped, not kept. */
  private closed = false;

  get size(): number {
    return (this.tgt === undefined ? 0 : 1) + this.services.size;
  }

  /** The cached TGT if it is still usable, else the one `fetch` gets (a call already fetching is joined). */
  async ticketGrantingTicket(now: Date, fetch: Getter): Promise<CachedTicket | KerberosFailure> {
    if (this.tgt !== undefined && usable(this.tgt, now)) return this.tgt;
    this.pendingTgt ??= this.fetchOnce(fetch, (t) => {
      if (this.tgt !== undefined) wipeTicket(this.tgt);
      this.tgt = t;
    }).finally(() => (this.pendingTgt = undefined));
    return this.pendingTgt;
  }

  /** Forgets the TGT (the KDC said it is expired or revoked): the next call gets a new one. */
  dropTgt(ticket: CachedTicket): void {
    if (this.tgt === ticket) {
      wipeTicket(ticket);
      this.tgt = undefined;
    }
  }

  /** The cached ticket for `server` if still usable, else the one `fetch` gets. */
  async serviceTicket(server: Principal, now: Date, fetch: Getter): Promise<CachedTicket | KerberosFailure> {
    const key = formatPrincipal(server.name, server.realm);
    const cached = this.services.get(key);
    if (cached !== undefined && usable(cached, now)) return cached;
    let pending = this.pendingServices.get(key);
    if (pending === undefined) {
      pending = this.fetchOnce(fetch, (t) => {
        const old = this.services.get(key);
        if (old !== undefined) wipeTicket(old);
        this.services.set(key, t);
      }).finally(() => this.pendingServices.delete(key));
      this.pendingServices.set(key, pending);
    }
    return pending;
  }

  /** Forgets one service ticket (the acceptor refused it as expired): the next call asks the KDC again. */
  dropService(ticket: CachedTicket): void {
    const key = formatPrincipal(ticket.server.name, ticket.server.realm);
    if (this.services.get(key) === ticket) {
      wipeTicket(ticket);
      this.services.delete(key);
    }
  }

  /**
   * The tickets cached now, the TGT first (what KerbQueryTicketCacheMessage lists). The entries
   * themselves: the caller reads their names, times, flags and etype, and hands nothing else on.
   */
  entries(): CachedTicket[] {
    return this.tgt === undefined ? [...this.services.values()] : [this.tgt, ...this.services.values()];
  }

  /**
   * KerbPurgeTicketCacheMessage: drops the tickets `match` selects (every one without it) and
   * zeroes their session keys. Unlike clear(), the cache stays open: the next call fetches again
   * (a context already made keeps its own copy of its key). Answers how many went.
   */
  purge(match?: (ticket: CachedTicket) => boolean): number {
    let purged = 0;
    if (this.tgt !== undefined && (match === undefined || match(this.tgt))) {
      wipeTicket(this.tgt);
      this.tgt = undefined;
      purged++;
    }
    for (const [key, ticket] of this.services)
      if (match === undefined || match(ticket)) {
        wipeTicket(ticket);
        this.services.delete(key);
        purged++;
      }
    return purged;
  }

  /** Drops every ticket and zeroes every session key (the logon ended, the credential was freed). */
  clear(): void {
    this.closed = true;
    if (this.tgt !== undefined) wipeTicket(this.tgt);
    this.tgt = undefined;
    for (const t of this.services.values()) wipeTicket(t);
    this.services.clear();
  }

  private async fetchOnce(fetch: Getter, keep: (t: CachedTicket) => void): Promise<CachedTicket | KerberosFailure> {
    const got = await fetch();
    if ('ticket' in got) {
      if (this.closed) {
        wipeTicket(got);
        return failure(SEC_E_NO_CREDENTIALS, 'the credential was freed while its ticket was on its way');
      }
      keep(got);
    }
    return got;
  }
}
