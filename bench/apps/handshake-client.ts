// The benchmark's client application: keeps `concurrency` handshakes in flight on one connection
// for `durationMs` (or until `count` handshakes are done), each the full path: ISC legs through the
// LSA, tokens to the server process and back, the context mapped into both processes, then
// deleted on both sides (unless `keep`). Reports completions and per-handshake latencies.
//
// args: server, package, user, domain, password, concurrency, durationMs, count, keep, warmupMs;
// for Kerberos (bench/kerberos.ts): target (the InitializeSecurityContext target name), targets (N:
// handshake i of this run targets `${target}${first + i}`, so that each one needs a service ticket
// of its own, until N are used), first, and credentialPerHandshake (a new credential for each
// handshake, freed after it: nothing of an explicit identity's ticket cache is reused).

import { performance } from 'node:perf_hooks';
import { ISC_REQ, SECBUFFER, SECPKG_CRED, type SecBuffer, SEC_E_INTERNAL_ERROR, SEC_E_OK, statusName, tokenBytes } from '../../headers/index.js';
import { HandleMap, type Connection } from '../../ipc/index.js';
import type { CredHandle, CtxtHandle } from '../../sspi/index.js';
import type { AppArgs, AppContext, AppResult } from '../../process/index.js';
import type { BenchMessage } from './protocol.js';

const REQ = ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONNECTION;

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const concurrency = Number(args.concurrency ?? 1);
  const durationMs = Number(args.durationMs ?? 1000);
  const warmupMs = Number(args.warmupMs ?? 0);
  const count = args.count === undefined ? Infinity : Number(args.count);
  const keep = args.keep === true;
  const messages = Number(args.messages ?? 0);
  const authData = typeof args.user === 'string' ? { User: args.user, Domain: String(args.domain ?? ''), Password: String(args.password ?? '') } : null;
  const acquire = () => ctx.sspi.acquireCredentialsHandle({ package: String(args.package), credentialUse: SECPKG_CRED.OUTBOUND, authData });
  const acquired = await acquire();
  if (acquired.credential === undefined) return { status: acquired.status, statusName: statusName(acquired.status) };
  const perHandshake = args.credentialPerHandshake === true;
  const target = typeof args.target === 'string' ? args.target : undefined;
  const targets = args.targets === undefined ? undefined : Number(args.targets);
  const first = Number(args.first ?? 0);
  let targetsUsed = 0;
  /** The next handshake's target name; null when the run has used every one it was given. */
  const nextTarget = (): string | undefined | null => {
    if (targets === undefined) return target;
    if (targetsUsed >= targets) return null;
    return `${target ?? ''}${first + targetsUsed++}`;
  };
  const conn = await ctx.connect<BenchMessage>(String(args.server));
  // A HandleMap, not a Map: an entry per leg comes and goes (ipc/handle-map.ts).
  const replies = new HandleMap<(m: BenchMessage) => void>();
  const pump = (async () => {
    for (;;) {
      let m: BenchMessage;
      try {
        m = await conn.receive();
      } catch {
        for (const r of replies.values()) r({ kind: 'failed', id: -1, status: SEC_E_INTERNAL_ERROR });
        return;
      }
      if (m.kind !== 'done') replies.get(m.id)?.(m);
    }
  })();

  let nextId = 1;
  let started = 0;
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const byStatus: Record<string, number> = {};
  const kept: CtxtHandle[] = [];
  /** Where this process's time per handshake went: its SSPI calls (round trips to the LSA) and its waits on the server. */
  const timing = { sspiMs: 0, sspiCalls: 0, serverMs: 0, serverTrips: 0 };
  const t0 = performance.now();
  const measureFrom = t0 + warmupMs;
  const deadline = measureFrom + durationMs;

  async function lane(): Promise<void> {
    while (performance.now() < deadline && started < count) {
      const targetName = nextTarget();
      if (targetName === null) break;
      started++;
      const begin = performance.now();
      let status: number;
      if (perHandshake) {
        const own = await acquire();
        status =
          own.credential === undefined
            ? own.status
            : await handshake(ctx, conn, replies, own.credential, nextId++, keep ? kept : null, messages, begin >= measureFrom ? timing : null, targetName);
        if (own.credential !== undefined) await ctx.sspi.freeCredentialsHandle(own.credential);
      } else
        status = await handshake(
          ctx,
          conn,
          replies,
          acquired.credential!,
          nextId++,
          keep ? kept : null,
          messages,
          begin >= measureFrom ? timing : null,
          targetName,
        );
      const end = performance.now();
      if (status !== SEC_E_OK) {
        failures++;
        firstFailure ??= statusName(status);
        byStatus[statusName(status)] = (byStatus[statusName(status)] ?? 0) + 1;
      } else if (begin >= measureFrom) latencies.push(end - begin);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsedMs = performance.now() - measureFrom;
  conn.send({ kind: 'done' });
  conn.close();
  await pump;
  await ctx.sspi.freeCredentialsHandle(acquired.credential);
  return {
    status: failures === 0 ? SEC_E_OK : SEC_E_INTERNAL_ERROR,
    statusName: failures === 0 ? 'SEC_E_OK' : 'SEC_E_INTERNAL_ERROR',
    ...(firstFailure === undefined ? {} : { detail: `${failures} handshakes failed, first with ${firstFailure}` }),
    data: { completed: latencies.length, failures, byStatus, elapsedMs, latencies, kept: kept.length, timing, targetsUsed, started },
  };
}

/** Sign and seal traffic on the new context, in this process (as an application would send it). */
async function protect(ctx: AppContext, context: CtxtHandle, count: number): Promise<number> {
  const data = new Uint8Array(256).fill(1);
  for (let i = 0; i < count; i++) {
    const signed = await ctx.sspi.makeSignature(
      context,
      0,
      [
        { BufferType: SECBUFFER.DATA, pvBuffer: data },
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(64) },
      ],
      0,
    );
    if (signed.status !== SEC_E_OK) return signed.status;
    const sealed = await ctx.sspi.encryptMessage(
      context,
      0,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(64) },
        { BufferType: SECBUFFER.DATA, pvBuffer: data.slice() },
      ],
      0,
    );
    if (sealed.status !== SEC_E_OK) return sealed.status;
  }
  return SEC_E_OK;
}

async function handshake(
  ctx: AppContext,
  conn: Connection<BenchMessage>,
  replies: HandleMap<(m: BenchMessage) => void>,
  credential: CredHandle,
  id: number,
  keep: CtxtHandle[] | null,
  messages: number,
  timing: { sspiMs: number; sspiCalls: number; serverMs: number; serverTrips: number } | null,
  targetName?: string,
): Promise<number> {
  let context: CtxtHandle | undefined;
  let input: SecBuffer[] | null = null;
  // Timed inline (a clock read before and after), not through a wrapper: this app stands for the
  // application, and an async wrapper per call was a tenth of what a handshake allocated here.
  let started = 0;
  try {
    for (;;) {
      if (timing !== null) started = performance.now();
      const r = await ctx.sspi.initializeSecurityContext({ credential, context: context ?? null, contextReq: REQ, input, targetName });
      if (timing !== null) {
        timing.sspiMs += performance.now() - started;
        timing.sspiCalls++;
      }
      context = r.context ?? context;
      if (r.status !== SEC_E_OK && r.status !== 0x00090312) return r.status;
      const token = tokenBytes(r.output);
      // Done with nothing to send: the server finished first and its last token was just taken in
      // (Negotiate's mechListMIC); the context is ready for messages.
      if (token === undefined || token.byteLength === 0) return r.status === SEC_E_OK ? await protect(ctx, context!, messages) : r.status;
      if (timing !== null) started = performance.now();
      const reply = await new Promise<BenchMessage>((resolve) => {
        replies.set(id, resolve);
        conn.send(timing === null ? { kind: 'token', id, token } : { kind: 'token', id, token, measured: true });
      });
      if (timing !== null) {
        timing.serverMs += performance.now() - started;
        timing.serverTrips++;
      }
      replies.delete(id);
      if (reply.kind === 'failed') return reply.status;
      if (reply.kind === 'accepted' && r.status === SEC_E_OK) return await protect(ctx, context!, messages); // await: the context is deleted in `finally`
      if (reply.kind === 'token' || reply.kind === 'accepted')
        input = reply.token === undefined ? null : [{ BufferType: SECBUFFER.TOKEN, pvBuffer: reply.token }];
    }
  } finally {
    if (context !== undefined) {
      if (keep === null) {
        if (timing !== null) started = performance.now();
        await ctx.sspi.deleteSecurityContext(context);
        if (timing !== null) {
          timing.sspiMs += performance.now() - started;
          timing.sspiCalls++;
        }
      } else keep.push(context);
    }
  }
}
