// The message checks, for signatures and seals alike: a round trip both ways on the first pair of
// contexts (what the package does, against the capability it claims), then alteration, replay
// and reordering, each on a fresh pair: after a refused message a package's state (a stream
// cipher's position, a sequence number) is its own business.

import { SECPKG_FLAG, SEC_E_MESSAGE_ALTERED, SEC_E_OK, SEC_E_OUT_OF_SEQUENCE, statusName, type Status } from '../headers/index.js';
import type { AppProcess } from '../machine/index.js';
import type { CtxtHandle } from '../sspi/index.js';
import type { Driver, Handshake } from './driver.js';
import type { Results } from './results.js';

/** The two processes and a completed handshake between them. */
export interface Pair {
  client: AppProcess;
  server: AppProcess;
  handshake: Handshake;
}

interface Protected {
  status: Status;
  /** The signature, or the seal's trailer. */
  token: Uint8Array;
  /** What travels beside it: the signed data as it was, or the sealed data. */
  body: Uint8Array;
}

/** Signing or sealing, as the checks use them. */
interface Protection {
  kind: 'sign' | 'seal';
  flag: number;
  flagName: string;
  protectFn: string;
  openFn: string;
  protect(proc: AppProcess, context: CtxtHandle, data: Uint8Array, size: number): Promise<Protected>;
  open(proc: AppProcess, context: CtxtHandle, token: Uint8Array, body: Uint8Array): Promise<{ status: Status; data: Uint8Array }>;
}

function protections(driver: Driver): Protection[] {
  return [
    {
      kind: 'sign',
      flag: SECPKG_FLAG.INTEGRITY,
      flagName: 'SECPKG_FLAG_INTEGRITY',
      protectFn: 'MakeSignature',
      openFn: 'VerifySignature',
      protect: async (proc, context, data, size) => {
        const signed = await driver.sign(proc, context, data, size);
        return { status: signed.status, token: signed.signature, body: data };
      },
      open: async (proc, context, token, body) => ({ status: await driver.verify(proc, context, body, token), data: body }),
    },
    {
      kind: 'seal',
      flag: SECPKG_FLAG.PRIVACY,
      flagName: 'SECPKG_FLAG_PRIVACY',
      protectFn: 'EncryptMessage',
      openFn: 'DecryptMessage',
      protect: async (proc, context, data, size) => {
        const sealed = await driver.seal(proc, context, data, size);
        return { status: sealed.status, token: sealed.trailer, body: sealed.sealed };
      },
      open: (proc, context, token, body) => driver.unseal(proc, context, token, body),
    },
  ];
}

export interface MessageOptions {
  driver: Driver;
  results: Results;
  /** The first pair of contexts, mapped into both processes. */
  first: Pair;
  /** A fresh pair of contexts for one check, or undefined (the check then failed, saying why). */
  fresh: (
    check:
      | 'sign.detects-alteration'
      | 'sign.detects-replay'
      | 'sign.detects-reordering'
      | 'seal.detects-alteration'
      | 'seal.detects-replay'
      | 'seal.detects-reordering',
  ) => Promise<Pair | undefined>;
  capabilities: number;
  /** The token sizes to give: cbMaxSignature and cbSecurityTrailer, and where they came from. */
  signatureBytes: number;
  trailerBytes: number;
  sizedBy: string;
  message: Uint8Array;
  /** What the server context granted (ASC_RET_REPLAY_DETECT, ASC_RET_SEQUENCE_DETECT). */
  replayGranted: boolean;
  sequenceGranted: boolean;
}

/** A replayed or reordered message refused, as the documentation names it, or as a MAC over the wrong sequence fails. */
const refused = (status: Status): boolean => status === SEC_E_OUT_OF_SEQUENCE || status === SEC_E_MESSAGE_ALTERED;

export async function messageChecks(o: MessageOptions): Promise<void> {
  const r = o.results;
  for (const p of protections(o.driver)) {
    const size = p.kind === 'sign' ? o.signatureBytes : o.trailerBytes;
    const { client, server, handshake } = o.first;
    const issues: string[] = [];
    for (const [from, fromCtx, to, toCtx, label] of [
      [client, handshake.client!, server, handshake.server!, 'client to server'],
      [server, handshake.server!, client, handshake.client!, 'server to client'],
    ] as const) {
      const sent = await p.protect(from, fromCtx, o.message, size);
      if (sent.status !== SEC_E_OK) {
        issues.push(`${label}: ${p.protectFn} answered ${statusName(sent.status)}`);
        continue;
      }
      if (sent.token.byteLength > size) issues.push(`${label}: ${p.protectFn} wrote ${sent.token.byteLength} bytes into the ${size} of ${o.sizedBy}`);
      if (p.kind === 'seal' && Buffer.from(sent.body).equals(Buffer.from(o.message))) issues.push(`${label}: EncryptMessage left the data in the clear`);
      const opened = await p.open(to, toCtx, sent.token, sent.body);
      if (opened.status !== SEC_E_OK) issues.push(`${label}: ${p.openFn} answered ${statusName(opened.status)}`);
      else if (!Buffer.from(opened.data).equals(Buffer.from(o.message))) issues.push(`${label}: ${p.openFn} gave other bytes than were sent`);
    }

    const claimed = (o.capabilities & p.flag) !== 0;
    const info = p.kind === 'sign' ? 'info.integrity' : 'info.privacy';
    const roundTrip = `${p.kind}.round-trip` as const;
    if (claimed) {
      r.judge(roundTrip, issues, 'both directions');
      r.judge(info, issues.length === 0 ? [] : [`SecPkgInfo claims ${p.flagName} but ${issues[0]}`], `claimed, and ${p.protectFn} works`);
    } else {
      r.skip(roundTrip, `the package does not claim ${p.flagName}`);
      r.judge(
        info,
        issues.length === 0 ? [`${p.protectFn} works both ways but SecPkgInfo lacks ${p.flagName}`] : [],
        `not claimed, and ${p.protectFn} refuses`,
      );
    }

    const alteration = `${p.kind}.detects-alteration` as const;
    const replay = `${p.kind}.detects-replay` as const;
    const reordering = `${p.kind}.detects-reordering` as const;
    if (!r.passed(roundTrip)) {
      for (const name of [alteration, replay, reordering]) r.skip(name, r.becauseOf(roundTrip));
      continue;
    }

    const pair = await o.fresh(alteration);
    if (pair !== undefined) {
      const sent = await p.protect(pair.client, pair.handshake.client!, o.message, size);
      const opened = await p.open(pair.server, pair.handshake.server!, sent.token, altered(sent.body));
      r.judge(
        alteration,
        opened.status === SEC_E_MESSAGE_ALTERED ? [] : [`${p.openFn} of altered data answered ${statusName(opened.status)}`],
        'SEC_E_MESSAGE_ALTERED',
      );
    }

    if (!o.replayGranted) r.skip(replay, 'the server context did not grant ASC_RET_REPLAY_DETECT');
    else {
      const pair = await o.fresh(replay);
      if (pair !== undefined) {
        const sent = await p.protect(pair.client, pair.handshake.client!, o.message, size);
        const once = await p.open(pair.server, pair.handshake.server!, sent.token, sent.body);
        const twice = await p.open(pair.server, pair.handshake.server!, sent.token, sent.body);
        r.judge(
          replay,
          once.status !== SEC_E_OK
            ? [`the first ${p.openFn} answered ${statusName(once.status)}`]
            : refused(twice.status)
              ? []
              : [`the same message passed twice: the second ${p.openFn} answered ${statusName(twice.status)}`],
          `the second ${p.openFn} of the same message answered ${statusName(twice.status)}`,
        );
      }
    }

    if (!o.sequenceGranted) r.skip(reordering, 'the server context did not grant ASC_RET_SEQUENCE_DETECT');
    else {
      const pair = await o.fresh(reordering);
      if (pair !== undefined) {
        await p.protect(pair.client, pair.handshake.client!, o.message, size);
        const second = await p.protect(pair.client, pair.handshake.client!, o.message, size);
        const opened = await p.open(pair.server, pair.handshake.server!, second.token, second.body);
        r.judge(
          reordering,
          refused(opened.status) ? [] : [`the second message, taken first, answered ${statusName(opened.status)}`],
          `the second message taken first answered ${statusName(opened.status)}`,
        );
      }
    }
  }
}

/** The data with one bit flipped in its middle. */
function altered(data: Uint8Array): Uint8Array {
  const out = Uint8Array.from(data);
  out[out.length >> 1]! ^= 0x01;
  return out;
}
