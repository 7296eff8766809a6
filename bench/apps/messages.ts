// The message benchmark's application: holds both ends of one context in this process (it runs
// the client and the server side of the handshake itself, through the LSA), then measures
// MakeSignature+VerifySignature and EncryptMessage+DecryptMessage on the mapped context, and the
// same with each operation's buffers also carried through the LSA by ApplyControlToken (an LPC
// round trip with the message, dispatched to the package's LSA-mode half): what a message
// function costs when it is not mapped into the process. For a package whose primitives
// bench/primitives.ts knows (the built-in ones), the mapped operation is also measured interleaved
// with the same operation on the package's primitives, in batches of about a millisecond in this
// same thread (bench/stats.ts interleave): what each costs the thread, whatever the machine's load.
//
// args: package, user, domain, password, sizes (bytes), durationMs, primitives (the package is a
// built-in one: its raw baseline is bench/primitives.ts's).

import {
  ASC_REQ,
  ISC_REQ,
  SECBUFFER,
  SECPKG_ATTR,
  SECPKG_CRED,
  type SecBuffer,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  statusName,
  tokenBytes,
} from '../../headers/index.js';
import type { CtxtHandle } from '../../sspi/index.js';
import type { AppArgs, AppContext, AppResult } from '../../process/index.js';
import { hasPrimitives, rawOperation } from '../primitives.js';
import { asyncRate, interleave } from '../stats.js';

/** The least an interleaving of mapped and raw runs, warm-up and measurement each (ms). */
const MIN_INTERLEAVE_MS = 500;

export interface MessageFigures {
  op: 'sign+verify' | 'seal+unseal';
  size: number;
  /** The median of the mapped windows. */
  mappedOpsPerSec: number;
  lpcOpsPerSec: number;
  /**
   * With primitives for the package: the mapped and raw operations interleaved in batches of
   * about a millisecond in this thread (bench/stats.ts interleave), the rates of the thread's own
   * time and their ratio, and the same batches' wall-clock rates.
   */
  interleaved?: {
    mappedOpsPerSec: number;
    rawOpsPerSec: number;
    mappedOverRaw: number;
    wall: { mappedOpsPerSec: number; rawOpsPerSec: number };
    gcShare: { mapped: number; raw: number };
    batches: number;
  };
}

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const pkg = String(args.package);
  const sspi = ctx.sspi;
  const out = await sspi.acquireCredentialsHandle({
    package: pkg,
    credentialUse: SECPKG_CRED.OUTBOUND,
    authData: { User: String(args.user), Domain: String(args.domain ?? ''), Password: String(args.password) },
  });
  const inb = await sspi.acquireCredentialsHandle({ package: pkg, credentialUse: SECPKG_CRED.INBOUND });
  if (out.credential === undefined || inb.credential === undefined)
    return { status: out.status || inb.status, statusName: statusName(out.status || inb.status) };
  let client: CtxtHandle | undefined;
  let server: CtxtHandle | undefined;
  let input: SecBuffer[] | null = null;
  for (let leg = 0; leg < 6; leg++) {
    const c = await sspi.initializeSecurityContext({
      credential: out.credential,
      context: client ?? null,
      contextReq: ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.REPLAY_DETECT,
      input,
    });
    client = c.context ?? client;
    const token = tokenBytes(c.output);
    if (token === undefined || token.byteLength === 0) break;
    const s = await sspi.acceptSecurityContext({
      credential: inb.credential,
      context: server ?? null,
      input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }],
      contextReq: ASC_REQ.CONFIDENTIALITY | ASC_REQ.INTEGRITY | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.REPLAY_DETECT,
    });
    server = s.context ?? server;
    if (s.status === SEC_E_OK && c.status === SEC_E_OK) break;
    if (s.status !== SEC_I_CONTINUE_NEEDED && s.status !== SEC_E_OK) return { status: s.status, statusName: statusName(s.status) };
    input = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: s.output[0]!.pvBuffer }];
  }
  const sizes = await sspi.queryContextAttributes(client!, SECPKG_ATTR.SIZES);
  const sig = sizes.buffer?.cbMaxSignature ?? 16;
  const trailer = sizes.buffer?.cbSecurityTrailer ?? 16;
  const durationMs = Number(args.durationMs ?? 500);
  const figures: MessageFigures[] = [];

  /** One window of an operation that answers whether it verified; the first that did not ends the app. */
  const window = (work: () => Promise<boolean>) => (windowMs: number) =>
    asyncRate(async () => {
      if (!(await work())) throw new Error('an operation failed');
    }, windowMs);
  // Warm-up as long as the measurement: a few dozen calls leave the package and Secur32 unoptimized.
  const rate = async (work: () => Promise<boolean>): Promise<number> => {
    await window(work)(durationMs);
    return window(work)(durationMs);
  };
  /** The mapped operation's window rate; with primitives, also interleaved with the raw operation's batches. */
  const mappedBesideRaw = async (
    op: MessageFigures['op'],
    size: number,
    mapped: () => Promise<boolean>,
  ): Promise<Pick<MessageFigures, 'mappedOpsPerSec' | 'interleaved'>> => {
    const mappedOpsPerSec = await rate(mapped);
    if (args.primitives !== true || !hasPrimitives(pkg)) return { mappedOpsPerSec };
    const raw = rawOperation(pkg, op, size);
    const measured = await interleave(
      async (n) => {
        for (let i = 0; i < n; i++) if (!(await mapped())) throw new Error('an operation failed');
      },
      (n) => {
        for (let i = 0; i < n; i++) raw();
      },
      // At least half a second of each side first: a --quick run's 120 ms windows left the mapped
      // path short of its optimized code (0.70 of raw there, 0.84 after a default run's warm-up).
      { totalMs: Math.max(MIN_INTERLEAVE_MS, 2 * durationMs), batchMs: 1, warmMs: Math.max(MIN_INTERLEAVE_MS, durationMs / 2) },
    );
    return {
      mappedOpsPerSec,
      interleaved: {
        mappedOpsPerSec: measured.a.opsPerSec,
        rawOpsPerSec: measured.b.opsPerSec,
        mappedOverRaw: measured.ratio,
        wall: { mappedOpsPerSec: measured.a.wallOpsPerSec, rawOpsPerSec: measured.b.wallOpsPerSec },
        gcShare: { mapped: measured.a.gcShare, raw: measured.b.gcShare },
        batches: measured.batches,
      },
    };
  };

  for (const size of (args.sizes as number[] | undefined) ?? [64, 1024, 65536]) {
    const data = new Uint8Array(size).fill(7);
    const signVerify = async (viaLsa: boolean): Promise<boolean> => {
      const m = await sspi.makeSignature(
        client!,
        0,
        [
          { BufferType: SECBUFFER.DATA, pvBuffer: data },
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(sig) },
        ],
        0,
      );
      if (viaLsa) await sspi.applyControlToken(client!, m.message);
      const v = await sspi.verifySignature(server!, m.message, 0);
      if (viaLsa) await sspi.applyControlToken(server!, m.message);
      return m.status === SEC_E_OK && v.status === SEC_E_OK;
    };
    const sealUnseal = async (viaLsa: boolean): Promise<boolean> => {
      const e = await sspi.encryptMessage(
        client!,
        0,
        [
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(trailer) },
          { BufferType: SECBUFFER.DATA, pvBuffer: data.slice() },
        ],
        0,
      );
      if (viaLsa) await sspi.applyControlToken(client!, e.message);
      const d = await sspi.decryptMessage(server!, e.message, 0);
      if (viaLsa) await sspi.applyControlToken(server!, d.message);
      return e.status === SEC_E_OK && d.status === SEC_E_OK;
    };
    figures.push({
      op: 'sign+verify',
      size,
      ...(await mappedBesideRaw('sign+verify', size, () => signVerify(false))),
      lpcOpsPerSec: await rate(() => signVerify(true)),
    });
    figures.push({
      op: 'seal+unseal',
      size,
      ...(await mappedBesideRaw('seal+unseal', size, () => sealUnseal(false))),
      lpcOpsPerSec: await rate(() => sealUnseal(true)),
    });
  }
  await sspi.deleteSecurityContext(client!);
  await sspi.deleteSecurityContext(server!);
  await sspi.freeCredentialsHandle(out.credential);
  await sspi.freeCredentialsHandle(inb.credential);
  return { status: SEC_E_OK, statusName: 'SEC_E_OK', data: { figures } };
}
