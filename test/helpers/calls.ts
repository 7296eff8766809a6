// Shared by the suites that call SSPI in real processes: a machine with a server and a client
// process that always shuts down, a result's status by name, and the message buffers
// EncryptMessage and MakeSignature take (the example package's trailer and signature are 24 bytes).

import assert from 'node:assert/strict';
import { SECBUFFER, type SecBuffer } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { AppProcess, Machine, MachineOptions } from '../../machine/machine.js';
import type { CtxtHandle } from '../../sspi/handles.js';
import type { MessageResult } from '../../sspi/secur32.js';
import { withMachine } from './machine.js';

/** The status of any SSPI or LPC result, by name. */
export const status = (r: unknown): string => statusName((r as { status: number }).status);

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface ClientAndServer {
  machine: Machine;
  client: AppProcess;
  server: AppProcess;
}

/** A machine booted with `options`, a server process and a client process spawned (in that order); shut down after `fn`. */
export function withClientAndServer<T>(options: MachineOptions, fn: (processes: ClientAndServer) => Promise<T>): Promise<T> {
  return withMachine(options, async (machine) => {
    const server = await machine.spawn('server');
    const client = await machine.spawn('client');
    return fn({ machine, client, server });
  });
}

/** EncryptMessage's buffers: the trailer first, then the data. */
export function sealBuffers(data: Uint8Array): SecBuffer[] {
  return [
    { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
    { BufferType: SECBUFFER.DATA, pvBuffer: data },
  ];
}

/** MakeSignature's buffers: the data first, then the signature. */
export function signBuffers(data: Uint8Array): SecBuffer[] {
  return [
    { BufferType: SECBUFFER.DATA, pvBuffer: data },
    { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
  ];
}

/** `message` sealed on `ctx` in `proc`, which must answer SEC_E_OK. */
export async function seal(proc: AppProcess, ctx: CtxtHandle, message: string): Promise<SecBuffer[]> {
  const r = await proc.sspi.encryptMessage(ctx, 0, sealBuffers(text(message)), 0);
  assert.equal(status(r), 'SEC_E_OK');
  return r.message;
}

/** `message` signed on `ctx` in `proc`, which must answer SEC_E_OK. */
export async function sign(proc: AppProcess, ctx: CtxtHandle, message: string): Promise<SecBuffer[]> {
  const r = await proc.sspi.makeSignature(ctx, 0, signBuffers(text(message)), 0);
  assert.equal(status(r), 'SEC_E_OK');
  return r.message;
}

/** A deep copy of message buffers, to tamper with or to present again. */
export const copy = (buffers: SecBuffer[]): SecBuffer[] => buffers.map((b) => ({ BufferType: b.BufferType, pvBuffer: b.pvBuffer.slice() }));

/**
 * The four user-mode message functions (the package's entry, the API an application calls), each
 * called as an application reaches it on `context` with a chosen sequence number: for tests that
 * make a package's message functions misbehave by sequence number.
 */
export const MESSAGE_FUNCTIONS: ReadonlyArray<{
  entry: string;
  api: string;
  call: (proc: AppProcess, context: CtxtHandle, seq: number) => Promise<MessageResult>;
}> = [
  { entry: 'SpMakeSignature', api: 'MakeSignature', call: (proc, context, seq) => proc.sspi.makeSignature(context, 0, signBuffers(text('odd')), seq) },
  { entry: 'SpVerifySignature', api: 'VerifySignature', call: (proc, context, seq) => proc.sspi.verifySignature(context, signBuffers(text('odd')), seq) },
  { entry: 'SpSealMessage', api: 'EncryptMessage', call: (proc, context, seq) => proc.sspi.encryptMessage(context, 0, sealBuffers(text('odd')), seq) },
  { entry: 'SpUnsealMessage', api: 'DecryptMessage', call: (proc, context, seq) => proc.sspi.decryptMessage(context, sealBuffers(text('odd')), seq) },
];
