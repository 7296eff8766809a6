// The example security package: three-leg mutual authentication, the template to copy when you
// write your own. Like a Windows SSP/AP DLL it is one module with two exports:
//
//   SpLsaModeInitialize  -> the LSA-mode table, loaded into the LSA at boot. It holds every
//                           long-term secret and runs the handshake (SpInitLsaModeContext for the
//                           client, SpAcceptLsaModeContext for the server).
//   SpUserModeInitialize -> the user-mode table, loaded into an application's process the first
//                           time one of its contexts completes there (MappedContext = TRUE). It
//                           signs and seals with the session keys in the ContextData.
//
// The protocol (all MACs HMAC-SHA256; K = PBKDF2-SHA256(password, "sspi-emu/example:" + user,
// 4096 iterations), derived inside the LSA, never leaving it):
//
//   leg 1  client -> server  ClientHello  user, domain, client nonce Nc, P1 = MAC(K, hello | Nc | user | domain)
//   leg 2  server -> client  ServerProof  server nonce Ns, SP = MAC(K, "server" | Nc | Ns)
//   leg 3  client -> server  ClientProof  CP = MAC(K, "client" | Nc | Ns)
//
// The server refuses a wrong password at leg 1 (SEC_E_LOGON_DENIED) before it proves anything, so
// it is no oracle for guessing passwords offline; the client refuses a server that cannot produce
// SP (SEC_E_MUTUAL_AUTH_FAILED); the server checks CP, which binds its own fresh nonce, at leg 3
// (SEC_E_LOGON_DENIED). Both sides then derive the session key SK = MAC(K, "session" | Nc | Ns)
// and hand it to their process as ContextData.
//
// Messages: per direction a signing key and a sealing key derived from SK, one sequence number
// per direction shared by signatures and seals. Signature (24 bytes): version 1 (4) | seq (4) |
// MAC(sign key, seq | data) truncated to 16. Seal: AES-256-GCM in place, nonce = direction | seq,
// trailer (24 bytes): version 1 (4) | seq (4) | GCM tag (16). A bad MAC is SEC_E_MESSAGE_ALTERED,
// a good MAC on the wrong sequence number (replayed or reordered) SEC_E_OUT_OF_SEQUENCE.

import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  SECPKG_EXTENDED_INFORMATION_CLASS,
  SECPKG_INTERFACE_VERSION,
  type LsaSecpkgFunctionTable,
  type LSA_SEC_HANDLE,
  type LUID,
  type PackageId,
  type SecpkgFunctionTable,
  type SecpkgUserFunctionTable,
  type SpContextResult,
  type SpLsaModeInitializeFn,
  type SpUserModeInitializeFn,
  ASC_REQ,
  ASC_RET,
  ISC_REQ,
  ISC_RET,
  SECBUFFER,
  SECBUFFER_READONLY,
  SECBUFFER_READONLY_WITH_CHECKSUM,
  SECPKG_ATTR,
  SECPKG_CRED,
  SECPKG_FLAG,
  SECPKG_ID_NONE,
  SECPKG_NEGOTIATION,
  TIMESTAMP_NEVER,
  type SecBuffer,
  type SecPkgInfo,
  SEC_E_BUFFER_TOO_SMALL,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_LOGON_DENIED,
  SEC_E_MESSAGE_ALTERED,
  SEC_E_MUTUAL_AUTH_FAILED,
  SEC_E_NO_CREDENTIALS,
  SEC_E_OK,
  SEC_E_OUT_OF_SEQUENCE,
  SEC_E_QOP_NOT_SUPPORTED,
  SEC_E_UNKNOWN_CREDENTIALS,
  SEC_E_UNSUPPORTED_FUNCTION,
  SEC_I_CONTINUE_NEEDED,
  STATUS_SUCCESS,
  isSuccess,
  type Status,
} from '../../headers/index.js';
import { UNUSED_LSA_MEMBERS, UNUSED_USER_MEMBERS, unpackAuthIdentity } from '../kit/index.js';

// ---------------------------------------------------------------------------------------------
// What both halves share: the package's identity and its wire formats.
// ---------------------------------------------------------------------------------------------

const PACKAGE_INFO: SecPkgInfo = {
  fCapabilities:
    SECPKG_FLAG.INTEGRITY | SECPKG_FLAG.PRIVACY | SECPKG_FLAG.CONNECTION | SECPKG_FLAG.MULTI_REQUIRED | SECPKG_FLAG.MUTUAL_AUTH | SECPKG_FLAG.ACCEPT_WIN32_NAME,
  wVersion: 1,
  wRPCID: SECPKG_ID_NONE,
  cbMaxToken: 512,
  Name: 'Example',
  Comment: 'sspi-emu example package: three-leg mutual authentication',
};

const SIGNATURE_BYTES = 24;
const TRAILER_BYTES = 24;
const KEY_BYTES = 32;
const NONCE_BYTES = 32;
const PBKDF2_ITERATIONS = 4096;
const MAX_NAME_BYTES = 256;

/** Token header: magic "EXv1" (4), message type (1), flags (1). */
const MAGIC = 0x31765845; // "EXv1" little-endian
const HEADER = 6;
const enum MessageType {
  ClientHello = 1,
  ServerProof = 2,
  ClientProof = 3,
}
/** ClientHello flags: what the client asked to protect messages with. */
const HELLO_WANTS_CONFIDENTIALITY = 0x1;
const HELLO_WANTS_INTEGRITY = 0x2;

/** ClientHello: header | Nc (32) | P1 (32) | userLen (2) | user | domainLen (2) | domain. */
function packClientHello(flags: number, nc: Uint8Array, p1: Uint8Array, user: string, domain: string): Uint8Array {
  const u = Buffer.from(user, 'utf8');
  const d = Buffer.from(domain, 'utf8');
  const out = Buffer.alloc(HEADER + NONCE_BYTES + KEY_BYTES + 2 + u.length + 2 + d.length);
  let o = writeHeader(out, MessageType.ClientHello, flags);
  out.set(nc, o);
  o += NONCE_BYTES;
  out.set(p1, o);
  o += KEY_BYTES;
  o = out.writeUInt16LE(u.length, o);
  o += u.copy(out, o);
  o = out.writeUInt16LE(d.length, o);
  d.copy(out, o);
  return out;
}

interface ClientHello {
  flags: number;
  nc: Uint8Array;
  p1: Uint8Array;
  user: string;
  domain: string;
}

function unpackClientHello(token: Uint8Array): ClientHello | undefined {
  const r = reader(token, MessageType.ClientHello);
  if (r === undefined) return undefined;
  const nc = r.bytes(NONCE_BYTES);
  const p1 = r.bytes(KEY_BYTES);
  const user = r.string();
  const domain = r.string();
  if (nc === undefined || p1 === undefined || user === undefined || domain === undefined || user.length === 0 || !r.atEnd()) return undefined;
  return { flags: r.flags, nc, p1, user, domain };
}

/** ServerProof: header | Ns (32) | SP (32). ClientProof: header | CP (32). */
function packProof(type: MessageType, ...parts: Uint8Array[]): Uint8Array {
  const out = Buffer.alloc(HEADER + parts.reduce((n, p) => n + p.byteLength, 0));
  let o = writeHeader(out, type, 0);
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function unpackServerProof(token: Uint8Array): { ns: Uint8Array; sp: Uint8Array } | undefined {
  const r = reader(token, MessageType.ServerProof);
  const ns = r?.bytes(NONCE_BYTES);
  const sp = r?.bytes(KEY_BYTES);
  return r !== undefined && ns !== undefined && sp !== undefined && r.atEnd() ? { ns, sp } : undefined;
}

function unpackClientProof(token: Uint8Array): Uint8Array | undefined {
  const r = reader(token, MessageType.ClientProof);
  const cp = r?.bytes(KEY_BYTES);
  return r !== undefined && cp !== undefined && r.atEnd() ? cp : undefined;
}

function writeHeader(out: Buffer, type: MessageType, flags: number): number {
  out.writeUInt32LE(MAGIC, 0);
  out[4] = type;
  out[5] = flags;
  return HEADER;
}

/** A bounds-checked cursor over a token: every read checks the length first. */
function reader(token: Uint8Array, type: MessageType) {
  if (token.byteLength < HEADER || token.byteLength > PACKAGE_INFO.cbMaxToken) return undefined;
  const view = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
  if (view.readUInt32LE(0) !== MAGIC || view[4] !== type) return undefined;
  let o = HEADER;
  return {
    flags: view[5]!,
    bytes(n: number): Uint8Array | undefined {
      if (o + n > view.length) return undefined;
      const out = Uint8Array.prototype.slice.call(view, o, o + n);
      o += n;
      return out;
    },
    string(): string | undefined {
      if (o + 2 > view.length) return undefined;
      const n = view.readUInt16LE(o);
      if (n > MAX_NAME_BYTES || o + 2 + n > view.length) return undefined;
      const s = view.toString('utf8', o + 2, o + 2 + n);
      o += 2 + n;
      return s;
    },
    atEnd: () => o === view.length,
  };
}

function mac(key: Uint8Array, ...parts: Array<Uint8Array | string>): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** K: the long-term secret both sides derive from the password. Case-insensitive in the user name. */
function deriveSecret(user: string, password: string): Buffer {
  return pbkdf2Sync(password, `sspi-emu/example:${user.toLowerCase()}`, PBKDF2_ITERATIONS, KEY_BYTES, 'sha256');
}

/**
 * ContextData: what the LSA copies into the application's process for SpInitUserModeContext.
 * role (1) | flags (4) | SK (32) | nameLen (2) | name ("DOMAIN\\user").
 */
const enum Role {
  Client = 1,
  Server = 2,
}
function packContextData(role: Role, flags: number, sessionKey: Uint8Array, name: string): Uint8Array {
  const n = Buffer.from(name, 'utf8');
  const out = Buffer.alloc(1 + 4 + KEY_BYTES + 2 + n.length);
  out[0] = role;
  out.writeUInt32LE(flags >>> 0, 1);
  out.set(sessionKey, 5);
  out.writeUInt16LE(n.length, 5 + KEY_BYTES);
  n.copy(out, 7 + KEY_BYTES);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The LSA-mode half (runs in the LSA worker).
// ---------------------------------------------------------------------------------------------

/** The LSA's functions, given to SpInitialize; the package's only way to reach the LSA. */
let lsa: LsaSecpkgFunctionTable;
let packageId: PackageId;

interface Credential {
  use: number;
  /** Outbound credentials: who we are and our K. */
  user?: string;
  domain?: string;
  secret?: Uint8Array;
}

/**
 * A context owns what it needs (its own copy of K, the names): freeing the credential it was made
 * with, mid-handshake, changes nothing for it. K is wiped once the handshake is over.
 */
interface LsaContext {
  role: Role;
  stage: 'hello-sent' | 'proof-sent' | 'complete' | 'failed';
  requested: number;
  attributes: number;
  nc: Uint8Array;
  ns?: Uint8Array;
  secret: Uint8Array;
  /** Client side: who we are. */
  user?: string;
  domain?: string;
  /** Server side: the account the ClientHello named, authenticated only once its ClientProof verifies. */
  claimedName?: string;
  /** "DOMAIN\\user" of the authenticated client (both sides know it), once the handshake completed. */
  clientName?: string;
  /** The network logon session the server created for the client. */
  logonId?: LUID;
}

/** A failed leg leaves its context unusable: later calls with it are SEC_E_INVALID_HANDLE, and it names nobody. */
function fail(context: LsaContext, status: Status): SpContextResult {
  context.stage = 'failed';
  context.secret.fill(0);
  return { status };
}

const credentials = new Map<LSA_SEC_HANDLE, Credential>();
const contexts = new Map<LSA_SEC_HANDLE, LsaContext>();
/** Each account's K, derived once from the SAM's password (PBKDF2 is the expensive part). */
const accountSecrets = new Map<string, { name: string; secret: Uint8Array }>();
let nextHandle = 1;

/** The per-logon credentials this package keeps through AddCredential, by primary key. */
const LOGON_SECRET_KEY = 'Example:K';
const LOGON_NAME_KEY = 'Example:Name';

const SpInitialize: SecpkgFunctionTable['Initialize'] = (id, _parameters, functionTable) => {
  packageId = id;
  lsa = functionTable;
  return STATUS_SUCCESS;
};

const SpGetInfo: SecpkgFunctionTable['GetInfo'] = () => ({ status: STATUS_SUCCESS, PackageInfo: PACKAGE_INFO });

/** A process was spawned as an account (an interactive logon): keep its K with its logon session. */
const SpAcceptCredentials: SecpkgFunctionTable['AcceptCredentials'] = (_logonType, _accountName, primary) => {
  if (primary === null) return STATUS_SUCCESS;
  lsa.AddCredential(primary.LogonId, packageId, LOGON_SECRET_KEY, deriveSecret(primary.DownlevelName, primary.Password));
  lsa.AddCredential(primary.LogonId, packageId, LOGON_NAME_KEY, Buffer.from(`${primary.DomainName}\\${primary.DownlevelName}`, 'utf8'));
  return STATUS_SUCCESS;
};

const SpAcquireCredentialsHandle: SecpkgFunctionTable['AcquireCredentialsHandle'] = async (_principal, use, _logonId, authData) => {
  const credential: Credential = { use };
  if (use & SECPKG_CRED.OUTBOUND) {
    if (authData !== null) {
      // Explicit credentials live in the caller's process: copy them over, as a DLL would.
      const copied = await lsa.CopyFromClientBuffer(null, authData.length, authData.address);
      const identity = copied.BufferToCopy === undefined ? undefined : unpackAuthIdentity(copied.BufferToCopy);
      copied.BufferToCopy?.fill(0);
      if (identity === undefined || identity.User.length === 0) return { status: SEC_E_UNKNOWN_CREDENTIALS };
      credential.user = identity.User;
      credential.domain = identity.Domain;
      credential.secret = deriveSecret(identity.User, identity.Password);
    } else {
      // Default credentials: the logon session of the calling process.
      const client = lsa.GetClientInfo().ClientInfo;
      if (client === undefined) return { status: SEC_E_NO_CREDENTIALS };
      const secret = lsa.GetCredentials(client.LogonId, packageId, 0, false, LOGON_SECRET_KEY).Credentials;
      const name = lsa.GetCredentials(client.LogonId, packageId, 0, false, LOGON_NAME_KEY).Credentials;
      if (secret === undefined || name === undefined) return { status: SEC_E_NO_CREDENTIALS };
      const [domain, user] = Buffer.from(name).toString('utf8').split('\\') as [string, string];
      Object.assign(credential, { user, domain, secret });
    }
  }
  const handle = nextHandle++;
  credentials.set(handle, credential);
  return { status: SEC_E_OK, CredentialHandle: handle, ExpirationTime: TIMESTAMP_NEVER };
};

const SpFreeCredentialsHandle: SecpkgFunctionTable['FreeCredentialsHandle'] = (handle) => {
  const credential = credentials.get(handle);
  if (credential === undefined) return SEC_E_INVALID_HANDLE;
  credential.secret?.fill(0);
  credentials.delete(handle);
  return SEC_E_OK;
};

/** InitializeSecurityContext, client side: leg 1 without a context, leg 3 with one. */
const SpInitLsaModeContext: SecpkgFunctionTable['InitLsaModeContext'] = (credHandle, ctxHandle, _target, requirements, _drep, input, output) => {
  if (ctxHandle === null) return clientHello(credHandle, requirements, output);
  const context = contexts.get(ctxHandle);
  if (context === undefined || context.role !== Role.Client) return { status: SEC_E_INVALID_HANDLE };
  if (context.stage !== 'hello-sent') return { status: SEC_E_INVALID_HANDLE };
  return clientProof(ctxHandle, context, tokenOf(input), output);
};

function clientHello(credHandle: LSA_SEC_HANDLE | null, requirements: number, output: SecBuffer[]): SpContextResult {
  const credential = credHandle === null ? undefined : credentials.get(credHandle);
  if (credential === undefined) return { status: SEC_E_INVALID_HANDLE };
  if (!(credential.use & SECPKG_CRED.OUTBOUND) || credential.secret === undefined) return { status: SEC_E_NO_CREDENTIALS };
  const nc = randomBytes(NONCE_BYTES);
  const flags = (requirements & ISC_REQ.CONFIDENTIALITY ? HELLO_WANTS_CONFIDENTIALITY : 0) | (requirements & SIGNING_REQ ? HELLO_WANTS_INTEGRITY : 0);
  const user = credential.user!;
  const domain = credential.domain ?? '';
  const p1 = mac(credential.secret, 'hello', nc, user, '\\', domain);
  if (!putToken(output, packClientHello(flags, nc, p1, user, domain))) return { status: SEC_E_BUFFER_TOO_SMALL };
  const handle = nextHandle++;
  contexts.set(handle, {
    role: Role.Client,
    stage: 'hello-sent',
    requested: requirements,
    attributes: clientAttributes(requirements),
    nc,
    secret: Uint8Array.from(credential.secret),
    user,
    domain,
  });
  return { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: handle, ContextAttributes: clientAttributes(requirements), ExpirationTime: TIMESTAMP_NEVER };
}

function clientProof(handle: LSA_SEC_HANDLE, context: LsaContext, token: Uint8Array | undefined, output: SecBuffer[]): SpContextResult {
  const proof = token === undefined ? undefined : unpackServerProof(token);
  if (proof === undefined) return fail(context, SEC_E_INVALID_TOKEN);
  const secret = context.secret;
  // The server proves it knows K; a server that does not fails us here.
  if (!equal(proof.sp, mac(secret, 'server', context.nc, proof.ns))) return fail(context, SEC_E_MUTUAL_AUTH_FAILED);
  if (!putToken(output, packProof(MessageType.ClientProof, mac(secret, 'client', context.nc, proof.ns)))) return fail(context, SEC_E_BUFFER_TOO_SMALL);
  context.stage = 'complete';
  context.ns = proof.ns;
  context.clientName = `${context.domain ?? ''}\\${context.user}`;
  const sessionKey = mac(secret, 'session', context.nc, proof.ns);
  secret.fill(0);
  return {
    status: SEC_E_OK,
    NewContextHandle: handle,
    ContextAttributes: context.attributes,
    ExpirationTime: TIMESTAMP_NEVER,
    // MappedContext: this package has a user-mode half; the LSA intercepts the flag and copies
    // ContextData into the caller's process for SpInitUserModeContext.
    MappedContext: true,
    ContextData: packContextData(Role.Client, context.attributes, sessionKey, context.clientName),
  };
}

/** AcceptSecurityContext, server side: leg 2 without a context, the final check with one. */
const SpAcceptLsaModeContext: SecpkgFunctionTable['AcceptLsaModeContext'] = (credHandle, ctxHandle, input, requirements, _drep, output) => {
  const token = tokenOf(input);
  if (ctxHandle === null) {
    const credential = credHandle === null ? undefined : credentials.get(credHandle);
    if (credential === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (!(credential.use & SECPKG_CRED.INBOUND)) return { status: SEC_E_NO_CREDENTIALS };
    return serverProof(requirements, token, output);
  }
  const context = contexts.get(ctxHandle);
  if (context === undefined || context.role !== Role.Server || context.stage !== 'proof-sent') return { status: SEC_E_INVALID_HANDLE };
  return serverComplete(ctxHandle, context, token);
};

function serverProof(requirements: number, token: Uint8Array | undefined, output: SecBuffer[]): SpContextResult {
  const hello = token === undefined ? undefined : unpackClientHello(token);
  if (hello === undefined) return { status: SEC_E_INVALID_TOKEN };
  const account = accountSecret(hello.user);
  // An unknown user and a wrong password look the same to the client.
  if (account === undefined || !equal(hello.p1, mac(account.secret, 'hello', hello.nc, hello.user, '\\', hello.domain))) return { status: SEC_E_LOGON_DENIED };
  const ns = randomBytes(NONCE_BYTES);
  if (!putToken(output, packProof(MessageType.ServerProof, ns, mac(account.secret, 'server', hello.nc, ns)))) return { status: SEC_E_BUFFER_TOO_SMALL };
  const attributes = serverAttributes(requirements, hello.flags);
  const handle = nextHandle++;
  contexts.set(handle, {
    role: Role.Server,
    stage: 'proof-sent',
    requested: requirements,
    attributes,
    nc: hello.nc,
    ns,
    secret: Uint8Array.from(account.secret),
    claimedName: account.name,
  });
  return { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: handle, ContextAttributes: attributes, ExpirationTime: TIMESTAMP_NEVER };
}

function serverComplete(handle: LSA_SEC_HANDLE, context: LsaContext, token: Uint8Array | undefined): SpContextResult {
  const cp = token === undefined ? undefined : unpackClientProof(token);
  if (cp === undefined) return fail(context, SEC_E_INVALID_TOKEN);
  if (!equal(cp, mac(context.secret, 'client', context.nc, context.ns!))) return fail(context, SEC_E_LOGON_DENIED);
  context.stage = 'complete';
  context.clientName = context.claimedName;
  // The authenticated client gets a network logon session, as Windows creates one for a token.
  const logon = lsa.CreateLogonSession(null);
  if (isSuccess(logon.status)) context.logonId = logon.LogonId;
  const sessionKey = mac(context.secret, 'session', context.nc, context.ns!);
  context.secret.fill(0);
  return {
    status: SEC_E_OK,
    NewContextHandle: handle,
    ContextAttributes: context.attributes,
    ExpirationTime: TIMESTAMP_NEVER,
    MappedContext: true,
    ContextData: packContextData(Role.Server, context.attributes, sessionKey, context.clientName!),
  };
}

/** The account's K, read from the LSA's account store the first time the account is seen. */
function accountSecret(user: string): { name: string; secret: Uint8Array } | undefined {
  const cached = accountSecrets.get(user.toLowerCase());
  if (cached !== undefined) return cached;
  const opened = lsa.OpenSamUser(user, 0, null, false, 0);
  if (opened.UserHandle === undefined) return undefined;
  const creds = lsa.GetUserCredentials(opened.UserHandle).PrimaryCreds;
  lsa.CloseSamUser(opened.UserHandle);
  if (creds === undefined) return undefined;
  const entry = { name: `${creds.DomainName}\\${creds.DownlevelName}`, secret: deriveSecret(creds.DownlevelName, creds.Password) };
  accountSecrets.set(user.toLowerCase(), entry);
  return entry;
}

const SpDeleteContext: SecpkgFunctionTable['DeleteContext'] = (handle) => {
  const context = contexts.get(handle);
  if (context === undefined) return SEC_E_INVALID_HANDLE;
  if (context.logonId !== undefined) lsa.DeleteLogonSession(context.logonId);
  context.secret.fill(0);
  contexts.delete(handle);
  return SEC_E_OK;
};

/** QueryContextAttributes in the LSA: for contexts not yet mapped, and the thunked NATIVE_NAMES. */
const SpQueryContextAttributes: SecpkgFunctionTable['QueryContextAttributes'] = (handle, attribute) => {
  const context = contexts.get(handle);
  if (context === undefined) return { status: SEC_E_INVALID_HANDLE };
  switch (attribute) {
    case SECPKG_ATTR.SIZES:
      return { status: SEC_E_OK, Buffer: SIZES };
    case SECPKG_ATTR.PACKAGE_INFO:
      return { status: SEC_E_OK, Buffer: { PackageInfo: PACKAGE_INFO } };
    case SECPKG_ATTR.FLAGS:
      return { status: SEC_E_OK, Buffer: { Flags: context.attributes } };
    // Names only of a handshake that completed: a context that failed, or has not finished, names nobody.
    case SECPKG_ATTR.NATIVE_NAMES:
      return context.clientName === undefined
        ? { status: SEC_E_UNSUPPORTED_FUNCTION }
        : { status: SEC_E_OK, Buffer: { sClientName: context.clientName, sServerName: '' } };
    case SECPKG_ATTR.NAMES:
      return context.clientName === undefined ? { status: SEC_E_UNSUPPORTED_FUNCTION } : { status: SEC_E_OK, Buffer: { sUserName: context.clientName } };
    default:
      return { status: SEC_E_UNSUPPORTED_FUNCTION };
  }
};

/** Which QueryContextAttributes levels run in the LSA even once the context is mapped. */
const SpGetExtendedInformation: SecpkgFunctionTable['GetExtendedInformation'] = (infoClass) =>
  infoClass === SECPKG_EXTENDED_INFORMATION_CLASS.SecpkgContextThunks
    ? { status: SEC_E_OK, ppInformation: { Class: infoClass, Info: { InfoLevelCount: 1, Levels: [SECPKG_ATTR.NATIVE_NAMES] } } }
    : { status: SEC_E_UNSUPPORTED_FUNCTION };

const SIGNING_REQ = ISC_REQ.INTEGRITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT;

function clientAttributes(req: number): number {
  let ret = ISC_RET.MUTUAL_AUTH | ISC_RET.CONNECTION; // this protocol is always mutual
  if (req & ISC_REQ.CONFIDENTIALITY) ret |= ISC_RET.CONFIDENTIALITY;
  if (req & ISC_REQ.INTEGRITY) ret |= ISC_RET.INTEGRITY;
  if (req & ISC_REQ.REPLAY_DETECT) ret |= ISC_RET.REPLAY_DETECT;
  if (req & ISC_REQ.SEQUENCE_DETECT) ret |= ISC_RET.SEQUENCE_DETECT;
  if (req & ISC_REQ.ALLOCATE_MEMORY) ret |= ISC_RET.ALLOCATED_MEMORY;
  return ret >>> 0;
}

/** The server grants what both sides asked for (the client's wishes arrive in ClientHello). */
function serverAttributes(req: number, helloFlags: number): number {
  let ret = ASC_RET.MUTUAL_AUTH | ASC_RET.CONNECTION;
  if (req & ASC_REQ.CONFIDENTIALITY && helloFlags & HELLO_WANTS_CONFIDENTIALITY) ret |= ASC_RET.CONFIDENTIALITY;
  if (helloFlags & HELLO_WANTS_INTEGRITY || req & (ASC_REQ.INTEGRITY | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT)) {
    if (req & ASC_REQ.INTEGRITY) ret |= ASC_RET.INTEGRITY;
    if (req & ASC_REQ.REPLAY_DETECT) ret |= ASC_RET.REPLAY_DETECT;
    if (req & ASC_REQ.SEQUENCE_DETECT) ret |= ASC_RET.SEQUENCE_DETECT;
  }
  if (req & ASC_REQ.ALLOCATE_MEMORY) ret |= ASC_RET.ALLOCATED_MEMORY;
  return ret >>> 0;
}

const SIZES = { cbMaxToken: PACKAGE_INFO.cbMaxToken, cbMaxSignature: SIGNATURE_BYTES, cbBlockSize: 0, cbSecurityTrailer: TRAILER_BYTES };

function tokenOf(buffers: SecBuffer[] | null): Uint8Array | undefined {
  return buffers?.find((b) => (b.BufferType & ~SECBUFFER_READONLY) === SECBUFFER.TOKEN)?.pvBuffer;
}

/** Writes the output token into the caller's SECBUFFER_TOKEN (the package allocates it). */
function putToken(output: SecBuffer[], token: Uint8Array): boolean {
  const buffer = output.find((b) => b.BufferType === SECBUFFER.TOKEN);
  if (buffer === undefined) return false;
  buffer.pvBuffer = token;
  return true;
}

export const SpLsaModeInitialize: SpLsaModeInitializeFn = () => ({
  status: STATUS_SUCCESS,
  PackageVersion: SECPKG_INTERFACE_VERSION,
  ppTables: [
    {
      ...UNUSED_LSA_MEMBERS,
      LogonTerminated: () => undefined, // our per-logon K goes away with the session's credentials
      Initialize: SpInitialize,
      Shutdown: () => STATUS_SUCCESS,
      GetInfo: SpGetInfo,
      AcceptCredentials: SpAcceptCredentials,
      AcquireCredentialsHandle: SpAcquireCredentialsHandle,
      QueryCredentialsAttributes: () => ({ status: SEC_E_UNSUPPORTED_FUNCTION }),
      FreeCredentialsHandle: SpFreeCredentialsHandle,
      InitLsaModeContext: SpInitLsaModeContext,
      AcceptLsaModeContext: SpAcceptLsaModeContext,
      DeleteContext: SpDeleteContext,
      ApplyControlToken: () => SEC_E_UNSUPPORTED_FUNCTION,
      GetExtendedInformation: SpGetExtendedInformation,
      QueryContextAttributes: SpQueryContextAttributes,
    },
  ],
});

// ---------------------------------------------------------------------------------------------
// The user-mode half (runs in the application's process, after MappedContext).
// ---------------------------------------------------------------------------------------------

interface Direction {
  signKey: Buffer;
  sealKey: Buffer;
  /** Sequence numbers; one per direction, shared by signatures and seals. */
  seq: number;
  /** The GCM nonce prefix that keeps the two directions' nonces apart. */
  tag: number;
}

interface UserContext {
  role: Role;
  attributes: number;
  sessionKey: Buffer;
  name: string;
  send: Direction;
  receive: Direction;
  established: bigint;
}

const userContexts = new Map<LSA_SEC_HANDLE, UserContext>();

function direction(sessionKey: Uint8Array, label: 'client-to-server' | 'server-to-client'): Direction {
  return { signKey: mac(sessionKey, label, ' sign'), sealKey: mac(sessionKey, label, ' seal'), seq: 0, tag: label === 'client-to-server' ? 1 : 2 };
}

const SpInstanceInit: SecpkgUserFunctionTable['InstanceInit'] = () => STATUS_SUCCESS;

/** Unpacks the ContextData the LSA delivered; each side sends on its own direction. */
const SpInitUserModeContext: SecpkgUserFunctionTable['InitUserModeContext'] = (handle, packed) => {
  if (packed.byteLength < 7 + KEY_BYTES) return SEC_E_INVALID_TOKEN;
  const data = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const role = data[0] as Role;
  const sessionKey = Buffer.from(data.subarray(5, 5 + KEY_BYTES));
  const nameLength = data.readUInt16LE(5 + KEY_BYTES);
  if (7 + KEY_BYTES + nameLength !== data.length) return SEC_E_INVALID_TOKEN;
  const c2s = direction(sessionKey, 'client-to-server');
  const s2c = direction(sessionKey, 'server-to-client');
  userContexts.set(handle, {
    role,
    attributes: data.readUInt32LE(1),
    sessionKey,
    name: data.toString('utf8', 7 + KEY_BYTES),
    send: role === Role.Client ? c2s : s2c,
    receive: role === Role.Client ? s2c : c2s,
    established: BigInt(Date.now()) * 10_000n + 116_444_736_000_000_000n,
  });
  return STATUS_SUCCESS;
};

function canSign(c: UserContext): boolean {
  const bits =
    c.role === Role.Client
      ? ISC_RET.INTEGRITY | ISC_RET.REPLAY_DETECT | ISC_RET.SEQUENCE_DETECT
      : ASC_RET.INTEGRITY | ASC_RET.REPLAY_DETECT | ASC_RET.SEQUENCE_DETECT;
  return (c.attributes & bits) !== 0;
}
function canSeal(c: UserContext): boolean {
  return (c.attributes & (c.role === Role.Client ? ISC_RET.CONFIDENTIALITY : ASC_RET.CONFIDENTIALITY)) !== 0;
}

/** The buffers a signature covers: data, but not READONLY_WITH_CHECKSUM ones (as MakeSignature documents). */
function signedParts(buffers: SecBuffer[]): Uint8Array[] {
  return buffers.filter((b) => (b.BufferType & 0xffff) === SECBUFFER.DATA && !(b.BufferType & SECBUFFER_READONLY_WITH_CHECKSUM)).map((b) => b.pvBuffer);
}

function signature(d: Direction, seq: number, parts: Uint8Array[]): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(1, 0);
  header.writeUInt32LE(seq, 4);
  return Buffer.concat([header, mac(d.signKey, header.subarray(4), ...parts).subarray(0, 16)]);
}

/** The sequence check every verify and unseal does: MAC first, then order. */
function checkSequence(d: Direction, seq: number): Status {
  if (seq !== d.seq) return SEC_E_OUT_OF_SEQUENCE;
  d.seq++;
  return SEC_E_OK;
}

const SpMakeSignature: SecpkgUserFunctionTable['MakeSignature'] = (handle, _qop, buffers) => {
  const c = userContexts.get(handle);
  if (c === undefined) return SEC_E_INVALID_HANDLE;
  if (!canSign(c)) return SEC_E_QOP_NOT_SUPPORTED;
  const token = buffers.find((b) => b.BufferType === SECBUFFER.TOKEN);
  if (token === undefined) return SEC_E_INVALID_TOKEN;
  if (token.pvBuffer.byteLength < SIGNATURE_BYTES) return SEC_E_BUFFER_TOO_SMALL;
  token.pvBuffer = signature(c.send, c.send.seq++, signedParts(buffers));
  return SEC_E_OK;
};

const SpVerifySignature: SecpkgUserFunctionTable['VerifySignature'] = (handle, buffers) => {
  const c = userContexts.get(handle);
  if (c === undefined) return { status: SEC_E_INVALID_HANDLE };
  if (!canSign(c)) return { status: SEC_E_QOP_NOT_SUPPORTED };
  const token = buffers.find((b) => (b.BufferType & 0xffff) === SECBUFFER.TOKEN)?.pvBuffer;
  if (token === undefined || token.byteLength !== SIGNATURE_BYTES) return { status: SEC_E_INVALID_TOKEN };
  const seq = Buffer.from(token.buffer, token.byteOffset, token.byteLength).readUInt32LE(4);
  if (!equal(token, signature(c.receive, seq, signedParts(buffers)))) return { status: SEC_E_MESSAGE_ALTERED };
  return { status: checkSequence(c.receive, seq), QualityOfProtection: 0 };
};

function gcmNonce(d: Direction, seq: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(d.tag, 0);
  nonce.writeUInt32BE(seq, 8);
  return nonce;
}

/** The buffers a seal encrypts in place: data that is not read-only. */
function sealedBuffers(buffers: SecBuffer[]): SecBuffer[] {
  return buffers.filter((b) => (b.BufferType & 0xffff) === SECBUFFER.DATA && !(b.BufferType & SECBUFFER_READONLY));
}

const SpSealMessage: SecpkgUserFunctionTable['SealMessage'] = (handle, _qop, buffers) => {
  const c = userContexts.get(handle);
  if (c === undefined) return SEC_E_INVALID_HANDLE;
  if (!canSeal(c)) return SEC_E_QOP_NOT_SUPPORTED;
  const token = buffers.find((b) => b.BufferType === SECBUFFER.TOKEN);
  const data = sealedBuffers(buffers);
  if (token === undefined || data.length === 0) return SEC_E_INVALID_TOKEN;
  if (token.pvBuffer.byteLength < TRAILER_BYTES) return SEC_E_BUFFER_TOO_SMALL;
  const seq = c.send.seq++;
  const header = Buffer.alloc(8);
  header.writeUInt32LE(1, 0);
  header.writeUInt32LE(seq, 4);
  const cipher = createCipheriv('aes-256-gcm', c.send.sealKey, gcmNonce(c.send, seq));
  cipher.setAAD(header);
  for (const b of data) b.pvBuffer.set(cipher.update(b.pvBuffer));
  cipher.final();
  token.pvBuffer = Buffer.concat([header, cipher.getAuthTag()]);
  return SEC_E_OK;
};

const SpUnsealMessage: SecpkgUserFunctionTable['UnsealMessage'] = (handle, buffers) => {
  const c = userContexts.get(handle);
  if (c === undefined) return { status: SEC_E_INVALID_HANDLE };
  if (!canSeal(c)) return { status: SEC_E_QOP_NOT_SUPPORTED };
  const token = buffers.find((b) => (b.BufferType & 0xffff) === SECBUFFER.TOKEN)?.pvBuffer;
  const data = sealedBuffers(buffers);
  if (token === undefined || token.byteLength !== TRAILER_BYTES || data.length === 0) return { status: SEC_E_INVALID_TOKEN };
  const trailer = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
  const seq = trailer.readUInt32LE(4);
  const decipher = createDecipheriv('aes-256-gcm', c.receive.sealKey, gcmNonce(c.receive, seq));
  decipher.setAAD(trailer.subarray(0, 8));
  decipher.setAuthTag(trailer.subarray(8));
  const plain = data.map((b) => decipher.update(b.pvBuffer));
  try {
    decipher.final();
  } catch {
    return { status: SEC_E_MESSAGE_ALTERED }; // nothing was written: the buffers keep the ciphertext
  }
  const order = checkSequence(c.receive, seq);
  if (order !== SEC_E_OK) return { status: order };
  data.forEach((b, i) => b.pvBuffer.set(plain[i]!));
  return { status: SEC_E_OK, QualityOfProtection: 0 };
};

const SpQueryContextAttributesUser: SecpkgUserFunctionTable['QueryContextAttributes'] = (handle, attribute) => {
  const c = userContexts.get(handle);
  if (c === undefined) return { status: SEC_E_INVALID_HANDLE };
  switch (attribute) {
    case SECPKG_ATTR.SIZES:
      return { status: SEC_E_OK, Buffer: SIZES };
    case SECPKG_ATTR.NAMES:
      return { status: SEC_E_OK, Buffer: { sUserName: c.name } };
    case SECPKG_ATTR.LIFESPAN:
      return { status: SEC_E_OK, Buffer: { tsStart: c.established, tsExpiry: TIMESTAMP_NEVER } };
    case SECPKG_ATTR.SESSION_KEY:
      return { status: SEC_E_OK, Buffer: { SessionKey: Uint8Array.from(c.sessionKey) } };
    case SECPKG_ATTR.FLAGS:
      return { status: SEC_E_OK, Buffer: { Flags: c.attributes } };
    case SECPKG_ATTR.PACKAGE_INFO:
      return { status: SEC_E_OK, Buffer: { PackageInfo: PACKAGE_INFO } };
    case SECPKG_ATTR.NEGOTIATION_INFO:
      return { status: SEC_E_OK, Buffer: { PackageInfo: PACKAGE_INFO, NegotiationState: SECPKG_NEGOTIATION.COMPLETE } };
    default:
      return { status: SEC_E_UNSUPPORTED_FUNCTION };
  }
};

const SpDeleteUserModeContext: SecpkgUserFunctionTable['DeleteUserModeContext'] = (handle) => {
  const c = userContexts.get(handle);
  if (c === undefined) return SEC_E_INVALID_HANDLE;
  for (const key of [c.sessionKey, c.send.signKey, c.send.sealKey, c.receive.signKey, c.receive.sealKey]) key.fill(0);
  userContexts.delete(handle);
  return SEC_E_OK;
};

export const SpUserModeInitialize: SpUserModeInitializeFn = () => ({
  status: STATUS_SUCCESS,
  PackageVersion: SECPKG_INTERFACE_VERSION,
  ppTables: [
    {
      ...UNUSED_USER_MEMBERS,
      InstanceInit: SpInstanceInit,
      InitUserModeContext: SpInitUserModeContext,
      MakeSignature: SpMakeSignature,
      VerifySignature: SpVerifySignature,
      SealMessage: SpSealMessage,
      UnsealMessage: SpUnsealMessage,
      QueryContextAttributes: SpQueryContextAttributesUser,
      CompleteAuthToken: () => SEC_E_UNSUPPORTED_FUNCTION,
      DeleteUserModeContext: SpDeleteUserModeContext,
    },
  ],
});
