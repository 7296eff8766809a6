// Drives an NTLM handshake call by call through two processes' own SSPI libraries, with what the
// shared establish() helper does not pass: channel bindings on either side, a target name, and a
// hook that rewrites each token in flight. Also the vectors' tokens sent to a server directly.

import { SECBUFFER, SECPKG_CRED, tokenBytes, type SecBuffer, type SecWinntAuthIdentity } from '../../../headers/sspi.js';
import { statusName } from '../../../headers/status.js';
import type { AppProcess } from '../../../machine/machine.js';
import type { CredHandle, CtxtHandle } from '../../../sspi/handles.js';
import { DEFAULT_CLIENT_REQ } from '../../../client-proc/app.js';
import { DEFAULT_SERVER_REQ } from '../../../server-proc/app.js';
import { packSecChannelBindings } from '../../../packages/ntlm/crypto.js';

export type Leg = 'negotiate' | 'challenge' | 'authenticate';

export interface DriveOptions {
  /** Explicit client credentials; null for the client process's own logon. */
  authData?: SecWinntAuthIdentity | null;
  targetName?: string | null;
  clientReq?: number;
  serverReq?: number;
  /** SEC_CHANNEL_BINDINGS each side passes as SECBUFFER_CHANNEL_BINDINGS. */
  clientBindings?: Uint8Array;
  serverBindings?: Uint8Array;
  /** Rewrites a token on its way. */
  transit?: (token: Uint8Array, leg: Leg) => Uint8Array;
}

export interface Driven {
  /** Status names, in call order: client ISC, server ASC, client ISC, server ASC (as far as it got). */
  statuses: string[];
  clientCredential: CredHandle;
  serverCredential: CredHandle;
  clientContext: CtxtHandle | undefined;
  serverContext: CtxtHandle | undefined;
  tokens: Partial<Record<Leg, Uint8Array>>;
  /** The last status of each side. */
  client: string;
  server: string;
}

export const ALICE: SecWinntAuthIdentity = { User: 'alice', Domain: 'SSPI-EMU', Password: 'Passw0rd!' };

/** A SEC_CHANNEL_BINDINGS carrying only application data, as "tls-server-end-point:" + hash would. */
export function bindings(applicationData: string): Uint8Array {
  return packSecChannelBindings({
    initiatorAddrType: 0,
    initiatorAddress: new Uint8Array(0),
    acceptorAddrType: 0,
    acceptorAddress: new Uint8Array(0),
    applicationData: new TextEncoder().encode(applicationData),
  });
}

function withBindings(token: Uint8Array | undefined, channelBindings: Uint8Array | undefined): SecBuffer[] {
  const buffers: SecBuffer[] = [];
  if (token !== undefined) buffers.push({ BufferType: SECBUFFER.TOKEN, pvBuffer: token });
  if (channelBindings !== undefined) buffers.push({ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: channelBindings });
  return buffers;
}

/** NEGOTIATE, CHALLENGE, AUTHENTICATE between `client` and `server`, stopping at the first failure. */
export async function drive(client: AppProcess, server: AppProcess, options: DriveOptions = {}): Promise<Driven> {
  const authData = options.authData === undefined ? ALICE : options.authData;
  const c = await client.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: SECPKG_CRED.OUTBOUND, authData });
  const s = await server.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: SECPKG_CRED.INBOUND });
  if (c.credential === undefined || s.credential === undefined) throw new Error(`AcquireCredentialsHandle: ${statusName(c.status)} / ${statusName(s.status)}`);
  const out: Driven = {
    statuses: [],
    clientCredential: c.credential,
    serverCredential: s.credential,
    clientContext: undefined,
    serverContext: undefined,
    tokens: {},
    client: '',
    server: '',
  };
  const transit = (token: Uint8Array, leg: Leg): Uint8Array => {
    const sent = options.transit === undefined ? token : options.transit(token, leg);
    out.tokens[leg] = sent;
    return sent;
  };
  const record = (side: 'client' | 'server', status: number): boolean => {
    out[side] = statusName(status);
    out.statuses.push(out[side]);
    return status >>> 0 < 0x80000000;
  };
  const clientCall = (input: SecBuffer[] | null) =>
    client.sspi.initializeSecurityContext({
      credential: out.clientCredential,
      context: out.clientContext ?? null,
      targetName: options.targetName ?? null,
      contextReq: options.clientReq ?? DEFAULT_CLIENT_REQ,
      input,
    });
  const serverCall = (input: SecBuffer[]) =>
    server.sspi.acceptSecurityContext({
      credential: out.serverCredential,
      context: out.serverContext ?? null,
      input,
      contextReq: options.serverReq ?? DEFAULT_SERVER_REQ,
    });

  // On the first call the input may hold only the channel bindings.
  const first = await clientCall(options.clientBindings === undefined ? null : withBindings(undefined, options.clientBindings));
  out.clientContext = first.context;
  if (!record('client', first.status)) return out;
  const second = await serverCall(withBindings(transit(tokenBytes(first.output) ?? new Uint8Array(0), 'negotiate'), options.serverBindings));
  out.serverContext = second.context;
  if (!record('server', second.status)) return out;
  const third = await clientCall(withBindings(transit(tokenBytes(second.output) ?? new Uint8Array(0), 'challenge'), undefined));
  if (!record('client', third.status)) return out;
  const fourth = await serverCall(withBindings(transit(tokenBytes(third.output) ?? new Uint8Array(0), 'authenticate'), options.serverBindings));
  record('server', fourth.status);
  return out;
}

/** AcceptSecurityContext with one token, on a new context (null) or an existing one. */
export async function accept(server: AppProcess, credential: CredHandle, context: CtxtHandle | null, token: Uint8Array, extra: SecBuffer[] = []) {
  return server.sspi.acceptSecurityContext({
    credential,
    context,
    input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }, ...extra],
    contextReq: DEFAULT_SERVER_REQ,
  });
}
