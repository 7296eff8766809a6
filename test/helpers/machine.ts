// Test helpers over the real machine: boot and always shut down, fixture package paths, and a
// handshake driven call by call from the test through each process's own SSPI library.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { SECBUFFER, SECPKG_CRED, SECQOP_WRAP_NO_ENCRYPT, type SecBuffer, type SecWinntAuthIdentity, tokenBytes } from '../../headers/sspi.js';
import { SEC_E_OK, SEC_I_CONTINUE_NEEDED, isSuccess, statusName } from '../../headers/status.js';
import { Machine, type AppProcess, type MachineOptions } from '../../machine/machine.js';
import type { CredHandle, CtxtHandle } from '../../sspi/handles.js';
import { DEFAULT_CLIENT_REQ } from '../../client-proc/app.js';
import { DEFAULT_SERVER_REQ } from '../../server-proc/app.js';

export const ALICE = { User: 'alice', Domain: 'SSPI-EMU', Password: 'Passw0rd!' } as const;

/** The path of a compiled fixture package, as a "Security Packages" entry names it. */
export function fixturePackage(name: string): string {
  return fileURLToPath(new URL(`../fixtures/packages/${name}.js`, import.meta.url));
}

export function fixtureApp(name: string): string {
  return fileURLToPath(new URL(`../fixtures/apps/${name}.js`, import.meta.url));
}

export async function withMachine<T>(options: MachineOptions, fn: (machine: Machine) => Promise<T>): Promise<T> {
  const machine = await Machine.boot({ trace: false, ...options });
  try {
    return await fn(machine);
  } finally {
    await machine.shutdown();
  }
}

export interface Step {
  process: string;
  api: 'InitializeSecurityContext' | 'AcceptSecurityContext';
  status: string;
}

export interface Established {
  clientCredential: CredHandle;
  serverCredential: CredHandle;
  clientContext: CtxtHandle | undefined;
  serverContext: CtxtHandle | undefined;
  steps: Step[];
  /** Every result the applications received, for checking what they can see. */
  results: unknown[];
  ok: boolean;
}

export interface EstablishOptions {
  package?: string;
  /** Explicit client credentials; null for the client process's own logon. */
  authData?: SecWinntAuthIdentity | null;
  clientReq?: number;
  serverReq?: number;
  /** InitializeSecurityContext's pszTargetName (a Kerberos service: host/server or host@server). */
  targetName?: string;
  /** Rewrites a token on its way (tampering in transit); `leg` counts from 1. */
  transit?: (token: Uint8Array, leg: number) => Uint8Array;
}

/** Runs the ISC/ASC loop between two processes, forwarding tokens, and records every status. */
export async function establish(client: AppProcess, server: AppProcess, options: EstablishOptions = {}): Promise<Established> {
  const pkg = options.package ?? 'Example';
  const authData = options.authData === undefined ? ALICE : options.authData;
  const c = await client.sspi.acquireCredentialsHandle({ package: pkg, credentialUse: SECPKG_CRED.OUTBOUND, authData });
  const s = await server.sspi.acquireCredentialsHandle({ package: pkg, credentialUse: SECPKG_CRED.INBOUND });
  if (c.credential === undefined || s.credential === undefined) throw new Error(`AcquireCredentialsHandle: ${statusName(c.status)} / ${statusName(s.status)}`);
  const out: Established = {
    clientCredential: c.credential,
    serverCredential: s.credential,
    clientContext: undefined,
    serverContext: undefined,
    steps: [],
    results: [c, s],
    ok: false,
  };
  let input: SecBuffer[] | null = null;
  let leg = 0;
  const transit = (t: Uint8Array): Uint8Array => (options.transit === undefined ? t : options.transit(t, ++leg));
  for (let round = 0; round < 8; round++) {
    const ic = await client.sspi.initializeSecurityContext({
      credential: out.clientCredential,
      context: out.clientContext ?? null,
      contextReq: options.clientReq ?? DEFAULT_CLIENT_REQ,
      input,
      ...(options.targetName === undefined ? {} : { targetName: options.targetName }),
    });
    out.results.push(ic);
    out.clientContext = ic.context ?? out.clientContext;
    out.steps.push({ process: client.name, api: 'InitializeSecurityContext', status: statusName(ic.status) });
    if (!isSuccess(ic.status)) return out;
    const token = tokenBytes(ic.output);
    if (token === undefined || token.byteLength === 0) {
      out.ok = ic.status === SEC_E_OK;
      return out;
    }
    const as = await server.sspi.acceptSecurityContext({
      credential: out.serverCredential,
      context: out.serverContext ?? null,
      input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: transit(token) }],
      contextReq: options.serverReq ?? DEFAULT_SERVER_REQ,
    });
    out.results.push(as);
    out.serverContext = as.context ?? out.serverContext;
    out.steps.push({ process: server.name, api: 'AcceptSecurityContext', status: statusName(as.status) });
    if (!isSuccess(as.status)) return out;
    const reply = tokenBytes(as.output);
    if (ic.status === SEC_E_OK && as.status === SEC_E_OK) {
      out.ok = true;
      return out;
    }
    if (as.status === SEC_E_OK && (reply === undefined || reply.byteLength === 0)) {
      out.ok = ic.status === SEC_E_OK;
      return out;
    }
    if (as.status !== SEC_E_OK && as.status !== SEC_I_CONTINUE_NEEDED) return out;
    input = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: transit(reply ?? new Uint8Array(0)) }];
  }
  throw new Error('the handshake did not finish in 8 rounds');
}

/** A booted machine with alice as its account, a client process and a server process. */
export interface TwoProcesses {
  machine: Machine;
  client: AppProcess;
  server: AppProcess;
}

/** Boots a machine with `packages` (alice's password is Passw0rd!) and spawns a client and a server. */
export async function bootTwoProcesses(packages: string[]): Promise<TwoProcesses> {
  const machine = await Machine.boot({ packages, accounts: ['alice:Passw0rd!'], trace: false });
  return { machine, client: await machine.spawn('client'), server: await machine.spawn('server') };
}

/** Alice's outbound credential and an inbound one for `pkg`, both acquired in `proc`. */
export async function bothCredentials(proc: AppProcess, pkg: string): Promise<{ outbound: CredHandle; inbound: CredHandle }> {
  const out = await proc.sspi.acquireCredentialsHandle({
    package: pkg,
    credentialUse: SECPKG_CRED.OUTBOUND,
    authData: { User: 'alice', Domain: '', Password: 'Passw0rd!' },
  });
  const inb = await proc.sspi.acquireCredentialsHandle({ package: pkg, credentialUse: SECPKG_CRED.INBOUND });
  if (out.credential === undefined || inb.credential === undefined)
    throw new Error(`AcquireCredentialsHandle: ${statusName(out.status)} / ${statusName(inb.status)}`);
  return { outbound: out.credential, inbound: inb.credential };
}

/** Sealed, signed and wrapped-without-encryption messages each way (client, server, client), each checked by the peer. */
export async function messagesBothWays(client: AppProcess, clientCtx: CtxtHandle, server: AppProcess, serverCtx: typeof clientCtx): Promise<void> {
  for (const [from, fromCtx, to, toCtx] of [
    [client, clientCtx, server, serverCtx],
    [server, serverCtx, client, clientCtx],
    [client, clientCtx, server, serverCtx],
  ] as const) {
    const text = Uint8Array.from(Buffer.from(`hello from ${from.name}`));
    const sealed = await from.sspi.encryptMessage(fromCtx, 0, [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(60) },
      { BufferType: SECBUFFER.DATA, pvBuffer: text.slice() },
    ], 0);
    assert.equal(statusName(sealed.status), 'SEC_E_OK');
    assert.notDeepEqual(sealed.message[1]!.pvBuffer, text, 'encrypted in place');
    const opened = await to.sspi.decryptMessage(toCtx, sealed.message.map((b) => ({ ...b, pvBuffer: b.pvBuffer.slice() })), 0);
    assert.equal(statusName(opened.status), 'SEC_E_OK');
    assert.deepEqual(Buffer.from(opened.message[1]!.pvBuffer).toString(), `hello from ${from.name}`);

    const signed = await from.sspi.makeSignature(fromCtx, 0, [
      { BufferType: SECBUFFER.DATA, pvBuffer: text.slice() },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(28) },
    ], 0);
    assert.equal(statusName(signed.status), 'SEC_E_OK');
    const verified = await to.sspi.verifySignature(toCtx, signed.message, 0);
    assert.equal(statusName(verified.status), 'SEC_E_OK');

    const plain = await from.sspi.encryptMessage(fromCtx, SECQOP_WRAP_NO_ENCRYPT, [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(60) },
      { BufferType: SECBUFFER.DATA, pvBuffer: text.slice() },
    ], 0);
    assert.equal(statusName(plain.status), 'SEC_E_OK');
    assert.deepEqual(plain.message[1]!.pvBuffer, text, 'not encrypted');
    const read = await to.sspi.decryptMessage(toCtx, plain.message, 0);
    assert.equal(statusName(read.status), 'SEC_E_OK');
    assert.equal(read.qop, SECQOP_WRAP_NO_ENCRYPT);
  }
}
