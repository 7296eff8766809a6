// The benchmark's server application: accepts one connection per client process and answers
// every handshake on it (AcceptSecurityContext per token; the context is deleted as soon as it is
// established, so contexts do not pile up unless `keep` is set).
//
// args: name, package, clients (connections to accept), keep (keep established contexts).

import { performance } from 'node:perf_hooks';
import { ASC_REQ, SECBUFFER, SECPKG_CRED, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName, tokenBytes } from '../../headers/index.js';
import { HandleMap, type Connection } from '../../ipc/index.js';
import type { CredHandle, CtxtHandle } from '../../sspi/index.js';
import type { AppArgs, AppContext, AppResult } from '../../process/index.js';
import type { BenchMessage } from './protocol.js';

const REQ = ASC_REQ.CONFIDENTIALITY | ASC_REQ.INTEGRITY | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.CONNECTION;

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const acquired = await ctx.sspi.acquireCredentialsHandle({ package: String(args.package), credentialUse: SECPKG_CRED.INBOUND });
  if (acquired.credential === undefined) return { status: acquired.status, statusName: statusName(acquired.status) };
  const listener = await ctx.listen<BenchMessage>(String(args.name));
  const sessions: Promise<number>[] = [];
  /** This process's SSPI calls (round trips to the LSA), added up. */
  const timing = { sspiMs: 0, sspiCalls: 0 };
  for (let i = 0; i < Number(args.clients ?? 1); i++) sessions.push(serve(ctx, await listener.accept(), acquired.credential, args.keep === true, timing));
  const served = (await Promise.all(sessions)).reduce((a, b) => a + b, 0);
  await listener.close();
  await ctx.sspi.freeCredentialsHandle(acquired.credential);
  return { status: SEC_E_OK, statusName: 'SEC_E_OK', data: { served, timing } };
}

async function serve(
  ctx: AppContext,
  conn: Connection<BenchMessage>,
  credential: CredHandle,
  keep: boolean,
  timing: { sspiMs: number; sspiCalls: number },
): Promise<number> {
  // Only the calls of handshakes the client measures, so that both sides' counts cover the same
  // handshakes (bench/hops.ts divides them by the client's count). Timed inline, not through an
  // async wrapper per call: this app stands for the application.
  const add = (started: number): void => {
    timing.sspiMs += performance.now() - started;
    timing.sspiCalls++;
  };
  // A HandleMap, not a Map: a context per handshake comes and goes (ipc/handle-map.ts).
  const contexts = new HandleMap<CtxtHandle>();
  let served = 0;
  for (;;) {
    const m = await conn.receive();
    if (m.kind === 'done') {
      conn.close();
      return served;
    }
    if (m.kind !== 'token') continue;
    // Each message is handled on its own so that many handshakes are in flight at once.
    void (async () => {
      const existing = contexts.get(m.id);
      const measured = m.measured === true;
      const started = measured ? performance.now() : 0;
      const r = await ctx.sspi.acceptSecurityContext({
        credential,
        context: existing ?? null,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: m.token }],
        contextReq: REQ,
      });
      if (measured) add(started);
      if (r.context !== undefined) contexts.set(m.id, r.context);
      const token = tokenBytes(r.output);
      if (r.status === SEC_I_CONTINUE_NEEDED) {
        conn.send({ kind: 'token', id: m.id, token: token ?? new Uint8Array(0) });
        return;
      }
      if (r.status === SEC_E_OK) {
        conn.send(token !== undefined && token.byteLength > 0 ? { kind: 'accepted', id: m.id, token } : { kind: 'accepted', id: m.id });
        served++;
      } else {
        conn.send({ kind: 'failed', id: m.id, status: r.status });
      }
      if (!keep || r.status !== SEC_E_OK) {
        contexts.delete(m.id);
        if (r.context !== undefined) {
          const deleting = measured ? performance.now() : 0;
          await ctx.sspi.deleteSecurityContext(r.context);
          if (measured) add(deleting);
        }
      }
    })();
  }
}
