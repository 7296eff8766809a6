// The client's ticket cache (packages/kerberos/tickets.ts) and time: a cached TGT or service
// ticket is served only while it is valid (started, and more than the end margin before its end);
// an expired one, or one about to end, is not used: the cache asks the KDC again (the client does
// not renew tickets: a new AS or TGS exchange replaces them) and wipes the old session key.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KRB_NT } from '../../../packages/kerberos/messages/index.js';
import { TicketCache, usable, type CachedTicket } from '../../../packages/kerberos/tickets.js';
import type { KerberosFailure } from '../../../packages/kerberos/statuses.js';

const NOW = new Date('2026-03-01T12:00:00Z').getTime();
const S = 1000;
const H = 3600 * S;

function ticket(start: number, end: number, service = 'krbtgt'): CachedTicket {
  return {
    client: { name: { nameType: KRB_NT.PRINCIPAL, nameString: ['alice'] }, realm: 'EXAMPLE.TEST' },
    server: { name: { nameType: KRB_NT.SRV_INST, nameString: [service, 'EXAMPLE.TEST'] }, realm: 'EXAMPLE.TEST' },
    ticket: { realm: 'EXAMPLE.TEST', sname: { nameType: KRB_NT.SRV_INST, nameString: [service, 'EXAMPLE.TEST'] }, encPart: { etype: 18, cipher: new Uint8Array(16) } },
    sessionKey: { keytype: 18, keyvalue: new Uint8Array(32).fill(7) },
    flags: 0,
    authtime: new Date(start),
    starttime: new Date(start),
    endtime: new Date(end),
    renewTill: undefined,
  };
}

/** A fetch that hands out the given tickets in turn, counting the calls. */
function fetcher(...tickets: CachedTicket[]): { fetch: () => Promise<CachedTicket | KerberosFailure>; calls: () => number } {
  let n = 0;
  return { fetch: async () => tickets[n++]!, calls: () => n };
}

describe('the ticket cache and time', () => {
  it('counts a ticket usable from its start until the end margin, not after its end', () => {
    const t = ticket(NOW, NOW + H);
    assert.equal(usable(t, new Date(NOW)), true);
    assert.equal(usable(t, new Date(NOW + H - 31 * S)), true);
    assert.equal(usable(t, new Date(NOW + H - 29 * S)), false, 'about to end: not sent, it could expire on its way');
    assert.equal(usable(t, new Date(NOW + H)), false);
    assert.equal(usable(t, new Date(NOW + 2 * H)), false, 'expired');
    assert.equal(usable(ticket(NOW + H, NOW + 2 * H), new Date(NOW)), false, 'not valid yet');
  });

  it('serves a cached TGT while valid, and gets a new one once it has expired, wiping the old key', async () => {
    const cache = new TicketCache();
    const old = ticket(NOW, NOW + H);
    const fresh = ticket(NOW + 2 * H, NOW + 12 * H);
    const f = fetcher(old, fresh);
    assert.equal(await cache.ticketGrantingTicket(new Date(NOW), f.fetch), old);
    assert.equal(await cache.ticketGrantingTicket(new Date(NOW + 30 * 60 * S), f.fetch), old);
    assert.equal(f.calls(), 1);
    assert.equal(await cache.ticketGrantingTicket(new Date(NOW + 2 * H), f.fetch), fresh, 'the expired TGT is not served');
    assert.equal(f.calls(), 2);
    assert.ok(old.sessionKey.keyvalue.every((b) => b === 0), "the expired TGT's session key is wiped");
    assert.deepEqual(cache.entries(), [fresh]);
  });

  it('gets a new service ticket once the cached one has expired', async () => {
    const cache = new TicketCache();
    const old = ticket(NOW, NOW + H, 'HTTP');
    const fresh = ticket(NOW + 2 * H, NOW + 10 * H, 'HTTP');
    const f = fetcher(old, fresh);
    assert.equal(await cache.serviceTicket(old.server, new Date(NOW), f.fetch), old);
    assert.equal(await cache.serviceTicket(old.server, new Date(NOW + 2 * H), f.fetch), fresh);
    assert.equal(f.calls(), 2);
    assert.ok(old.sessionKey.keyvalue.every((b) => b === 0));
    assert.equal(cache.size, 1);
  });
});
