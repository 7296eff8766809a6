// The example package's LSA-mode half: it runs in the LSA worker, holds every long-term secret,
// and runs the handshake. The legs (see wire.ts for the messages):
//
//   client  SpInitLsaModeContext, no context   -> ClientHello           (clientHello)
//   server  SpAcceptLsaModeContext, no context -> checks P1, ServerProof (serverProof)
//   client  SpInitLsaModeContext, its context  -> checks SP, ClientProof (clientProof)
//   server  SpAcceptLsaModeContext, its context -> checks CP             (serverComplete)
//
// The server refuses a wrong password at the first leg (SEC_E_LOGON_DENIED) before it proves
// anything, so it is no oracle for guessing passwords offline; the client refuses a server that
// cannot produce SP (SEC_E_MUTUAL_AUTH_FAILED); the server checks CP, which binds its own fresh
// nonce. Both sides then hand SK to their process as ContextData, with MappedContext = TRUE.
//
// All state is this instance's (one per SpLsaModeInitialize): a context owns what it needs (its
// own copy of K, the names), so freeing the credential it was made with, mid-handshake, changes
// nothing for it; K is wiped once the handshake is over or failed.
//
// K costs a PBKDF2 of 4096 iterations (about 2 ms), the one expensive step: the package derives
// it on the LSA's work pool (runLsaWork), so that the LSA's dispatch thread answers other calls
// meanwhile; everything else, and all state, stays on the dispatch thread.

import { randomBytes } from 'node:crypto';
import {
  SECPKG_ATTR,
  SECPKG_CRED,
  SECPKG_EXTENDED_INFORMATION_CLASS,
  SEC_E_BUFFER_TOO_SMALL,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_LOGON_DENIED,
  SEC_E_MUTUAL_AUTH_FAILED,
  SEC_E_NO_CREDENTIALS,
  SEC_E_OK,
  SEC_E_UNKNOWN_CREDENTIALS,
  SEC_E_UNSUPPORTED_FUNCTION,
  SEC_I_CONTINUE_NEEDED,
  STATUS_SUCCESS,
  TIMESTAMP_NEVER,
  isSuccess,
  type LSA_SEC_HANDLE,
  type LUID,
  type SecBuffer,
  type SecpkgFunctionTable,
  type SpContextResult,
  type Status,
} from '../../headers/index.js';
import { DEFAULT_LSA_MEMBERS, HandleMap, LsaBinding, putToken, runLsaWork, tokenBytes, unpackAuthIdentity } from '../kit/index.js';
import { PACKAGE_INFO, SIZES, clientAttributes, helloFlags, serverAttributes } from './info.js';
import {
  KEY_BYTES,
  MESSAGE_TYPE,
  NONCE_BYTES,
  PACKAGE_NAME,
  PBKDF2_ITERATIONS,
  ROLE,
  clientProof,
  equal,
  helloProof,
  packClientHello,
  packContextData,
  packProof,
  secretSalt,
  serverProof,
  sessionKey,
  unpackClientHello,
  unpackClientProof,
  unpackServerProof,
  utf8,
  type ClientHello,
  type Role,
} from './wire.js';

interface Credential {
  use: number;
  /** Outbound credentials: who we are and our K. */
  user?: string;
  domain?: string;
  secret?: Uint8Array;
}

interface LsaContext {
  role: Role;
  stage: 'hello-sent' | 'proof-sent' | 'complete' | 'failed';
  attributes: number;
  nc: Uint8Array;
  ns?: Uint8Array;
  /** This context's own copy of K, wiped when the handshake ends. */
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

/** An account as the server knows it: its name as the SAM spells it, and its K. */
interface AccountSecret {
  name: string;
  secret: Uint8Array;
}

/** The per-logon credentials this package keeps through AddCredential, by primary key. */
const LOGON_SECRET_KEY = `${PACKAGE_NAME}:K`;
const LOGON_NAME_KEY = `${PACKAGE_NAME}:Name`;

export class ExampleLsaPackage {
  /** The LSA's functions and the package's id, from SpInitialize. */
  private readonly lsa = new LsaBinding(PACKAGE_NAME);
  /** Not Maps: one per handshake comes and goes (the kit's HandleMap: a Map leaves garbage alive through collections when its entries churn). */
  private readonly credentials = new HandleMap<Credential>();
  private readonly contexts = new HandleMap<LsaContext>();
  /** Each account's K, derived once from the SAM's password (PBKDF2 is the expensive part)... */
  private readonly accountSecrets = new Map<string, AccountSecret>();
  /** ...and the derivations under way, so that hellos for an account not yet seen share one. */
  private readonly deriving = new Map<string, Promise<AccountSecret>>();
  private nextHandle = 1;

  /**
   * The LSA-mode table, in the header's member order. The kit's defaults answer for the members it
   * leaves out: SpShutdown (success), SpQueryCredentialsAttributes and SpApplyControlToken
   * (SEC_E_UNSUPPORTED_FUNCTION), and those the LSA never calls.
   */
  table(): SecpkgFunctionTable {
    return {
      ...DEFAULT_LSA_MEMBERS,
      LogonTerminated: () => undefined, // the per-logon K goes away with the session's credentials
      Initialize: (id, _parameters, functionTable) => {
        this.lsa.bind(id, functionTable);
        return STATUS_SUCCESS;
      },
      GetInfo: () => ({ status: STATUS_SUCCESS, PackageInfo: PACKAGE_INFO }),
      AcceptCredentials: async (_logonType, _accountName, primary) => {
        // A process spawned as an account (an interactive logon): keep its K with its logon session.
        if (primary === null) return STATUS_SUCCESS;
        const secret = await this.deriveSecret(primary.DownlevelName, primary.Password);
        this.lsa.functions.AddCredential(primary.LogonId, this.lsa.packageId, LOGON_SECRET_KEY, secret);
        this.lsa.functions.AddCredential(primary.LogonId, this.lsa.packageId, LOGON_NAME_KEY, utf8(`${primary.DomainName}\\${primary.DownlevelName}`));
        return STATUS_SUCCESS;
      },
      AcquireCredentialsHandle: (_principal, use, _logonId, authData) => this.acquireCredentials(use, authData),
      FreeCredentialsHandle: (handle) => {
        const credential = this.credentials.get(handle);
        if (credential === undefined) return SEC_E_INVALID_HANDLE;
        credential.secret?.fill(0);
        this.credentials.delete(handle);
        return SEC_E_OK;
      },
      InitLsaModeContext: (credHandle, ctxHandle, _target, requirements, _drep, input, output) => {
        if (ctxHandle === null) return this.clientHello(credHandle, requirements, output);
        const context = this.contexts.get(ctxHandle);
        if (context?.role !== ROLE.Client || context.stage !== 'hello-sent') return { status: SEC_E_INVALID_HANDLE };
        return this.clientProof(ctxHandle, context, tokenBytes(input), output);
      },
      AcceptLsaModeContext: (credHandle, ctxHandle, input, requirements, _drep, output) => {
        if (ctxHandle === null) {
          const credential = credHandle === null ? undefined : this.credentials.get(credHandle);
          if (credential === undefined) return { status: SEC_E_INVALID_HANDLE };
          if (!(credential.use & SECPKG_CRED.INBOUND)) return { status: SEC_E_NO_CREDENTIALS };
          return this.serverProof(requirements, tokenBytes(input), output);
        }
        const context = this.contexts.get(ctxHandle);
        if (context?.role !== ROLE.Server || context.stage !== 'proof-sent') return { status: SEC_E_INVALID_HANDLE };
        return this.serverComplete(ctxHandle, context, tokenBytes(input));
      },
      DeleteContext: (handle) => {
        const context = this.contexts.get(handle);
        if (context === undefined) return SEC_E_INVALID_HANDLE;
        if (context.logonId !== undefined) this.lsa.functions.DeleteLogonSession(context.logonId);
        context.secret.fill(0);
        this.contexts.delete(handle);
        return SEC_E_OK;
      },
      // NATIVE_NAMES runs in the LSA even once the context is mapped (a thunked level).
      GetExtendedInformation: (infoClass) =>
        infoClass === SECPKG_EXTENDED_INFORMATION_CLASS.SecpkgContextThunks
          ? { status: SEC_E_OK, ppInformation: { Class: infoClass, Info: { InfoLevelCount: 1, Levels: [SECPKG_ATTR.NATIVE_NAMES] } } }
          : { status: SEC_E_UNSUPPORTED_FUNCTION },
      QueryContextAttributes: (handle, attribute) => this.queryContextAttributes(handle, attribute),
    };
  }

  private async acquireCredentials(
    use: number,
    authData: { address: number; length: number } | null,
  ): Promise<{ status: Status; CredentialHandle?: number; ExpirationTime?: bigint }> {
    const credential: Credential = { use };
    if (use & SECPKG_CRED.OUTBOUND) {
      const lsa = this.lsa.functions;
      if (authData !== null) {
        // Explicit credentials live in the caller's process: copy them over, as a DLL would.
        const copied = await lsa.CopyFromClientBuffer(null, authData.length, authData.address);
        const identity = copied.BufferToCopy === undefined ? undefined : unpackAuthIdentity(copied.BufferToCopy);
        copied.BufferToCopy?.fill(0);
        if (identity === undefined || identity.User.length === 0) return { status: SEC_E_UNKNOWN_CREDENTIALS };
        Object.assign(credential, { user: identity.User, domain: identity.Domain, secret: await this.deriveSecret(identity.User, identity.Password) });
      } else {
        // Default credentials: the logon session of the calling process.
        const client = lsa.GetClientInfo().ClientInfo;
        if (client === undefined) return { status: SEC_E_NO_CREDENTIALS };
        const secret = lsa.GetCredentials(client.LogonId, this.lsa.packageId, 0, false, LOGON_SECRET_KEY).Credentials;
        const name = lsa.GetCredentials(client.LogonId, this.lsa.packageId, 0, false, LOGON_NAME_KEY).Credentials;
        if (secret === undefined || name === undefined) return { status: SEC_E_NO_CREDENTIALS };
        const [domain, user] = Buffer.from(name).toString('utf8').split('\\') as [string, string];
        Object.assign(credential, { user, domain, secret });
      }
    }
    const handle = this.nextHandle++;
    this.credentials.set(handle, credential);
    return { status: SEC_E_OK, CredentialHandle: handle, ExpirationTime: TIMESTAMP_NEVER };
  }

  /** Client, leg 1: the ClientHello. */
  private clientHello(credHandle: LSA_SEC_HANDLE | null, requirements: number, output: SecBuffer[]): SpContextResult {
    const credential = credHandle === null ? undefined : this.credentials.get(credHandle);
    if (credential === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (!(credential.use & SECPKG_CRED.OUTBOUND) || credential.secret === undefined) return { status: SEC_E_NO_CREDENTIALS };
    const nc = randomBytes(NONCE_BYTES);
    const user = credential.user!;
    const domain = credential.domain ?? '';
    const hello = packClientHello({
      flags: helloFlags(requirements),
      nc,
      p1: helloProof(credential.secret, nc, user, domain),
      user: utf8(user),
      domain: utf8(domain),
    });
    if (!putToken(output, hello)) return { status: SEC_E_BUFFER_TOO_SMALL };
    const handle = this.nextHandle++;
    const attributes = clientAttributes(requirements);
    this.contexts.set(handle, { role: ROLE.Client, stage: 'hello-sent', attributes, nc, secret: Uint8Array.from(credential.secret), user, domain });
    return { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: handle, ContextAttributes: attributes, ExpirationTime: TIMESTAMP_NEVER };
  }

  /** Server, leg 2: checks P1, answers with the ServerProof (once the account's K is known: the first time, derived). */
  private serverProof(requirements: number, token: Uint8Array | undefined, output: SecBuffer[]): SpContextResult | Promise<SpContextResult> {
    const hello = token === undefined ? undefined : unpackClientHello(token);
    if (hello === undefined) return { status: SEC_E_INVALID_TOKEN };
    const user = Buffer.from(hello.user).toString('utf8');
    const domain = Buffer.from(hello.domain).toString('utf8');
    const account = this.accountSecret(user);
    return account instanceof Promise
      ? account.then((known) => this.answerHello(requirements, hello, user, domain, known, output))
      : this.answerHello(requirements, hello, user, domain, account, output);
  }

  private answerHello(
    requirements: number,
    hello: ClientHello,
    user: string,
    domain: string,
    account: AccountSecret | undefined,
    output: SecBuffer[],
  ): SpContextResult {
    // An unknown user and a wrong password look the same to the client.
    if (account === undefined || !equal(hello.p1, helloProof(account.secret, hello.nc, user, domain))) return { status: SEC_E_LOGON_DENIED };
    const ns = randomBytes(NONCE_BYTES);
    if (!putToken(output, packProof(MESSAGE_TYPE.ServerProof, ns, serverProof(account.secret, hello.nc, ns)))) return { status: SEC_E_BUFFER_TOO_SMALL };
    const attributes = serverAttributes(requirements, hello.flags);
    const handle = this.nextHandle++;
    this.contexts.set(handle, {
      role: ROLE.Server,
      stage: 'proof-sent',
      attributes,
      nc: hello.nc,
      ns,
      secret: Uint8Array.from(account.secret),
      claimedName: account.name,
    });
    return { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: handle, ContextAttributes: attributes, ExpirationTime: TIMESTAMP_NEVER };
  }

  /** Client, leg 3: checks SP (the server knows K), answers with the ClientProof; the context is mapped. */
  private clientProof(handle: LSA_SEC_HANDLE, context: LsaContext, token: Uint8Array | undefined, output: SecBuffer[]): SpContextResult {
    const proof = token === undefined ? undefined : unpackServerProof(token);
    if (proof === undefined) return fail(context, SEC_E_INVALID_TOKEN);
    if (!equal(proof.sp, serverProof(context.secret, context.nc, proof.ns))) return fail(context, SEC_E_MUTUAL_AUTH_FAILED);
    if (!putToken(output, packProof(MESSAGE_TYPE.ClientProof, clientProof(context.secret, context.nc, proof.ns)))) return fail(context, SEC_E_BUFFER_TOO_SMALL);
    context.stage = 'complete';
    context.ns = proof.ns;
    context.clientName = `${context.domain ?? ''}\\${context.user}`;
    return this.mapped(handle, context, sessionKey(context.secret, context.nc, proof.ns));
  }

  /** Server, the last check: CP binds the server's own fresh nonce; the context is mapped. */
  private serverComplete(handle: LSA_SEC_HANDLE, context: LsaContext, token: Uint8Array | undefined): SpContextResult {
    const cp = token === undefined ? undefined : unpackClientProof(token);
    if (cp === undefined) return fail(context, SEC_E_INVALID_TOKEN);
    if (!equal(cp, clientProof(context.secret, context.nc, context.ns!))) return fail(context, SEC_E_LOGON_DENIED);
    context.stage = 'complete';
    context.clientName = context.claimedName;
    // The authenticated client gets a network logon session, as Windows creates one for a token.
    const logon = this.lsa.functions.CreateLogonSession(null);
    if (isSuccess(logon.status)) context.logonId = logon.LogonId;
    return this.mapped(handle, context, sessionKey(context.secret, context.nc, context.ns!));
  }

  /**
   * SEC_E_OK with MappedContext: this package has a user-mode half; the LSA intercepts the flag
   * and copies ContextData into the caller's process for SpInitUserModeContext. K is not needed again.
   */
  private mapped(handle: LSA_SEC_HANDLE, context: LsaContext, sk: Uint8Array): SpContextResult {
    context.secret.fill(0);
    return {
      status: SEC_E_OK,
      NewContextHandle: handle,
      ContextAttributes: context.attributes,
      ExpirationTime: TIMESTAMP_NEVER,
      MappedContext: true,
      ContextData: packContextData({ role: context.role, flags: context.attributes, sessionKey: sk, name: context.clientName! }),
    };
  }

  /** QueryContextAttributes in the LSA: for contexts not yet mapped, and the thunked NATIVE_NAMES. */
  private queryContextAttributes(handle: LSA_SEC_HANDLE, attribute: number): { status: Status; Buffer?: unknown } {
    const context = this.contexts.get(handle);
    if (context === undefined) return { status: SEC_E_INVALID_HANDLE };
    const name = context.clientName;
    switch (attribute) {
      case SECPKG_ATTR.SIZES:
        return { status: SEC_E_OK, Buffer: SIZES };
      case SECPKG_ATTR.PACKAGE_INFO:
        return { status: SEC_E_OK, Buffer: { PackageInfo: PACKAGE_INFO } };
      case SECPKG_ATTR.FLAGS:
        return { status: SEC_E_OK, Buffer: { Flags: context.attributes } };
      // Names only of a handshake that completed: a context that failed, or has not finished, names nobody.
      case SECPKG_ATTR.NATIVE_NAMES:
        return name === undefined ? { status: SEC_E_UNSUPPORTED_FUNCTION } : { status: SEC_E_OK, Buffer: { sClientName: name, sServerName: '' } };
      case SECPKG_ATTR.NAMES:
        return name === undefined ? { status: SEC_E_UNSUPPORTED_FUNCTION } : { status: SEC_E_OK, Buffer: { sUserName: name } };
      default:
        return { status: SEC_E_UNSUPPORTED_FUNCTION };
    }
  }

  /**
   * The account's K: known, or derived the first time the account is seen (a promise then);
   * undefined for no such account. Known by the account the SAM finds, not by the client's
   * spelling of its name: any number of spellings ("OTHER\\alice", "ALICE") is one account, one
   * entry and one derivation (keyed by the spelling, made-up domains had grown the cache, shared
   * by every process, without end).
   */
  private accountSecret(user: string): AccountSecret | Promise<AccountSecret> | undefined {
    // The SAM is read now, within the caller's call; only the derivation waits.
    const lsa = this.lsa.functions;
    const opened = lsa.OpenSamUser(user, 0, null, false, 0);
    if (opened.UserHandle === undefined) return undefined;
    const creds = lsa.GetUserCredentials(opened.UserHandle).PrimaryCreds;
    lsa.CloseSamUser(opened.UserHandle);
    if (creds === undefined) return undefined;
    const name = `${creds.DomainName}\\${creds.DownlevelName}`;
    const key = name.toLowerCase();
    const known = this.accountSecrets.get(key) ?? this.deriving.get(key);
    if (known !== undefined) return known;
    const deriving = this.deriveSecret(creds.DownlevelName, creds.Password).then(
      (secret) => {
        this.deriving.delete(key);
        const entry = { name, secret };
        this.accountSecrets.set(key, entry);
        return entry;
      },
      (error: unknown) => {
        this.deriving.delete(key); // a failed derivation is tried again by the next hello
        throw error;
      },
    );
    this.deriving.set(key, deriving);
    return deriving;
  }

  /** K = PBKDF2-SHA256(password, secretSalt(user), 4096) (wire.ts deriveSecret), on the LSA's work pool. */
  private async deriveSecret(user: string, password: string): Promise<Uint8Array> {
    const bytes = utf8(password);
    try {
      return await runLsaWork(this.lsa.functions, 'BCryptDeriveKeyPBKDF2', {
        Prf: 'SHA256',
        Password: bytes,
        Salt: utf8(secretSalt(user)),
        Iterations: PBKDF2_ITERATIONS,
        DerivedKeyLength: KEY_BYTES,
      });
    } finally {
      bytes.fill(0);
    }
  }
}

/** A failed leg leaves its context unusable: later calls with it are SEC_E_INVALID_HANDLE, and it names nobody. */
function fail(context: LsaContext, status: Status): SpContextResult {
  context.stage = 'failed';
  context.secret.fill(0);
  return { status };
}
