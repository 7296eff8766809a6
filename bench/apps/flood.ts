// A process that floods the LSA: keeps `inFlight` AcquireCredentialsHandle calls with explicit
// credentials going (each one makes the package read the identity back out of this process with
// CopyFromClientBuffer and derive a key), freeing each credential it gets, until `durationMs`
// is over or the machine stops it. Reports how many calls it made and what they answered.
//
// args: package, user, domain, password, inFlight, durationMs, hold (keep the credentials: run
// into the process's quota instead of freeing them), burst (instead: make `burst` acquires at once,
// all in one turn, then wait for them all; again until durationMs is over).

import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { SECPKG_CRED, SEC_E_OK, statusName } from '../../headers/index.js';
import type { CredHandle } from '../../sspi/index.js';
import { lpcCodec, type AppWorkerData } from '../../ipc/index.js';
import type { AppArgs, AppContext, AppResult } from '../../process/index.js';

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const inFlight = Number(args.inFlight ?? 256);
  const deadline = performance.now() + Number(args.durationMs ?? 1000);
  const hold = args.hold === true;
  const authData = { User: String(args.user), Domain: String(args.domain ?? ''), Password: String(args.password ?? '') };
  const byStatus: Record<string, number> = {};
  const held: CredHandle[] = [];
  let calls = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const r = await ctx.sspi.acquireCredentialsHandle({ package: String(args.package), credentialUse: SECPKG_CRED.OUTBOUND, authData });
      calls++;
      byStatus[statusName(r.status)] = (byStatus[statusName(r.status)] ?? 0) + 1;
      if (r.credential === undefined) continue;
      if (hold) held.push(r.credential);
      else await ctx.sspi.freeCredentialsHandle(r.credential);
    }
  };
  if (args.raw === true) return rawFlood(Number(args.frame ?? 1000), deadline, String(args.package));
  const burst = Number(args.burst ?? 0);
  const acquireOnce = async (): Promise<void> => {
    const r = await ctx.sspi.acquireCredentialsHandle({ package: String(args.package), credentialUse: SECPKG_CRED.OUTBOUND, authData });
    calls++;
    byStatus[statusName(r.status)] = (byStatus[statusName(r.status)] ?? 0) + 1;
    if (r.credential !== undefined) held.push(r.credential);
  };
  if (burst > 0) {
    while (performance.now() < deadline) {
      await Promise.all(Array.from({ length: burst }, acquireOnce));
      if (!hold) for (const credential of held.splice(0)) await ctx.sspi.freeCredentialsHandle(credential);
    }
  } else await Promise.all(Array.from({ length: inFlight }, lane));
  for (const credential of held) await ctx.sspi.freeCredentialsHandle(credential);
  return { status: SEC_E_OK, statusName: 'SEC_E_OK', data: { calls, byStatus, held: held.length } };
}

/**
 * The flood a process's code can make without its SSPI library: LPC frames of `frame` raw
 * SpAcquireCredentialsHandle calls posted on its own port, one frame a turn, never waiting for a
 * reply (the replies arrive with ids its library never issued, and are dropped).
 */
async function rawFlood(frame: number, deadline: number, pkg: string): Promise<AppResult> {
  const codec = lpcCodec('process');
  const post = rawChannel();
  let id = 1e9;
  let calls = 0;
  while (performance.now() < deadline) {
    const batch = [];
    for (let i = 0; i < frame; i++)
      batch.push({
        kind: 'call',
        id: id++,
        op: 'SpAcquireCredentialsHandle',
        body: { pszPrincipal: null, pszPackage: pkg, fCredentialUse: SECPKG_CRED.INBOUND, pvLogonId: null, pAuthData: null },
      });
    // In the channel's own wire format (ipc/frame.ts), as the SSPI library would post them.
    post(codec.encode(batch, () => undefined));
    calls += frame;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { status: SEC_E_OK, statusName: 'SEC_E_OK', data: { calls, byStatus: {}, held: 0 } };
}

/**
 * Posts a frame on this process's own LPC channel, past its library: on the MessagePort in its
 * workerData (the LSA a worker thread), or on its connection to the LSA's socket (the LSA its own
 * OS process), found among this thread's handles as any code in the process could find it.
 */
function rawChannel(): (frame: ArrayBuffer) => void {
  const lpc = (workerData as AppWorkerData).lpc;
  if (lpc.kind === 'port') return (frame) => lpc.port.postMessage(frame, [frame]);
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const socket = handles.find((h): h is Socket => h instanceof Socket && h.remoteAddress === undefined && !h.destroyed);
  if (socket === undefined) throw new Error('no connection to the LSA among this thread\'s handles');
  return (frame) => {
    const header = Buffer.alloc(4);
    header.writeUInt32LE(frame.byteLength, 0);
    socket.write(Buffer.concat([header, new Uint8Array(frame)]));
  };
}
