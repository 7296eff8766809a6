// The NTLM package's LSA-mode half (SECPKG_FUNCTION_TABLE), loaded into the LSA at boot. It holds
// every long-term secret: the NT hashes of the accounts the server checks (computed once from the
// account store's passwords and cached here), of the processes' logons (SpAcceptCredentials), and
// of explicit credentials (SpAcquireCredentialsHandle). None of them leaves the LSA: a completed
// context hands its process only ContextData (context-data.ts).
//
// SpInitLsaModeContext and SpAcceptLsaModeContext dispatch over the legs of MS-NLMP 3.1.5 / 3.2.5:
//
//   client                                   server
//   negotiateLeg    -- NEGOTIATE_MESSAGE -->  challengeLeg     SEC_I_CONTINUE_NEEDED on both
//   authenticateLeg <-- CHALLENGE_MESSAGE --
//                   -- AUTHENTICATE_MESSAGE -> verifyLeg        SEC_E_OK + MappedContext on both
//
// The protocol work of each leg is in initiator.ts and acceptor.ts; this module adds the SSPI
// around it: handles, credentials, buffers, the clock, settings, logon sessions, ContextData.
// A context takes each leg once: after it completed or failed it refuses further tokens
// (SEC_E_INVALID_HANDLE), so a replayed AUTHENTICATE_MESSAGE finds nothing to answer it.
//
// Under Negotiate the last legs also carry SPNEGO's mechListMIC (mech-list-mic.ts): given a
// SECBUFFER_MECHLIST, the client signs it with its AUTHENTICATE and, instead of completing, waits
// for the server's (SEC_I_CONTINUE_NEEDED; a third call verifies it and completes); the server
// checks the client's, which is required when the AUTHENTICATE carries a MIC, and signs its own.

import {
  ASC_REQ,
  SECPKG_NAME_TYPE,
  type LSA_SEC_HANDLE,
  type LUID,
  type SecpkgFunctionTable,
  type SpContextResult,
  SECBUFFER,
  SECPKG_ATTR,
  SECPKG_CRED,
  SECPKG_CRED_ATTR,
  SECPKG_NEGOTIATION,
  TIMESTAMP_NEVER,
  type SecBuffer,
  SEC_E_BAD_BINDINGS,
  SEC_E_BUFFER_TOO_SMALL,
  SEC_E_INTERNAL_ERROR,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_LOGON_DENIED,
  SEC_E_MESSAGE_ALTERED,
  SEC_E_NO_AUTHENTICATING_AUTHORITY,
  SEC_E_NO_CREDENTIALS,
  SEC_E_OK,
  SEC_E_UNKNOWN_CREDENTIALS,
  SEC_E_UNSUPPORTED_FUNCTION,
  SEC_I_CONTINUE_NEEDED,
  SECPKG_STATE,
  STATUS_INVALID_PARAMETER,
  STATUS_LOGON_FAILURE,
  STATUS_NO_SUCH_USER,
  STATUS_SUCCESS,
  STATUS_WRONG_PASSWORD,
  isSuccess,
  type Status,
  timeStampFromDate,
} from '../../headers/index.js';
import { findBuffer, HandleMap, LsaBinding, putToken, tokenBytes, unpackAuthIdentity, UNUSED_LSA_MEMBERS } from '../kit/index.js';
import {
  challengeFor,
  finishAuthenticate,
  proveNtlmV2,
  readAuthenticate,
  UNKNOWN_ACCOUNT_KEY,
  type AcceptPolicy,
  type Accepted,
  type AccountKey,
  type ChallengeState,
  type ReadAuthenticate,
  type ServerNames,
} from './acceptor.js';
import type { Failure } from './outcome.js';
import { MSV1_0_PARAMETER_CONTROL, packNetworkLogon, packValidation, unpackNetworkLogon, unpackValidation, validateNetworkLogon } from './passthrough.js';
import { packContextData } from './context-data.js';
import { digestBindings, ntowfv1, type BindingsDigest, type NtlmSide } from './crypto.js';
import { clientAttributes, NTLM_MAX_TOKEN, packageInfo, serverAttributes, SIZES } from './info.js';
import { authenticateFor, negotiateFor, type ClientIdentity, type NegotiateState } from './initiator.js';
import { NO_MECH_LIST_MICS, signMechList, verifyMechList, type MechListMics } from './mech-list-mic.js';
import { randomFromPool } from './random.js';
import { DEFAULT_SETTINGS, parseSettings, type NtlmSettings } from './settings.js';

/** Who an outbound credential authenticates as. The NT hash never leaves the LSA. */
interface Identity {
  user: string;
  domain: string;
  /** "DOMAIN\\user", or the user alone without a domain (the CHALLENGE's domain is put before it then). */
  userName: string;
  ntHash: Uint8Array;
}

function identityOf(user: string, domain: string, ntHash: Uint8Array): Identity {
  return { user, domain, userName: domain === '' ? user : `${domain}\\${user}`, ntHash };
}

interface Credential {
  use: number;
  /** Outbound credentials only. */
  identity: Identity | undefined;
}

interface ClientContext {
  role: 'client';
  stage: 'negotiate-sent' | 'failed';
  identity: Identity;
  requested: number;
  targetName: string | null;
  negotiate: NegotiateState;
  /** The digest of the SECBUFFER_CHANNEL_BINDINGS given with the first call, if the second brings none. */
  bindings: BindingsDigest | undefined;
  attributes: number;
  /** "DOMAIN\\user" once known (the domain may come from the CHALLENGE). */
  userName: string;
  /** When the handshake began, in ms since 1970 (a number, not a Date: a Date costs a live context 96 bytes). */
  created: number;
}

interface ServerContext {
  role: 'server';
  /** 'verifying': its AUTHENTICATE is with the domain controller (pass-through); another call with it is refused meanwhile. */
  stage: 'challenge-sent' | 'verifying' | 'failed';
  requested: number;
  exchange: ChallengeState;
  bindings: BindingsDigest | undefined;
  attributes: number;
  /** The authenticated account, once the AUTHENTICATE_MESSAGE verified. */
  userName: string | undefined;
  /** The network logon session created for the authenticated client. */
  logonId: LUID | undefined;
  created: number;
}

/**
 * A context whose handshake completed: only what the LSA still answers for it (attributes, names,
 * lifespan) and the logon session to end with it. The messages, the challenge state and the NT
 * hash's copy are dropped, so a live mapped context costs the LSA little.
 */
interface CompleteContext {
  role: NtlmSide;
  stage: 'complete';
  attributes: number;
  userName: string;
  logonId: LUID | undefined;
  created: number;
}

/**
 * A client context under Negotiate whose AUTHENTICATE and mechListMIC went out: it keeps the
 * session key until the server's mechListMIC is checked, then becomes `complete`.
 */
interface MicPendingContext {
  role: 'client';
  stage: 'mic-pending' | 'failed';
  complete: CompleteContext;
  session: { flags: number; exportedSessionKey: Uint8Array };
  mechList: Uint8Array;
  /** The AUTHENTICATE carried a MIC: the server's mechListMIC is required (MS-SPNG). */
  micRequired: boolean;
  serverName: string;
}

type LsaContext = ClientContext | ServerContext | CompleteContext | MicPendingContext;

/** The per-logon credentials this package keeps with AddCredential: the NT hash and the names, never the password. */
const LOGON_NT_HASH = 'NTLM:NtHash';
const LOGON_USER = 'NTLM:UserName';
const LOGON_DOMAIN = 'NTLM:DomainName';

/** One instance per SpLsaModeInitialize: the package's whole LSA-side state. */
class NtlmLsaPackage {
  /** The LSA's functions and the package's id, from SpInitialize. */
  private readonly lsa = new LsaBinding('NTLM');
  private settings: NtlmSettings = DEFAULT_SETTINGS;
  private names: ServerNames = { computerName: '', dnsComputerName: '', domainName: '', dnsDomainName: '' };
  /** SECPKG_PARAMETERS.MachineState: SECPKG_STATE_WORKSTATION on a domain member, whose domain users' logons pass through to the DC. */
  private machineState = 0;
  /** Not Maps: credentials and one context per handshake come and go (the kit's HandleMap, ipc/handle-map.ts). */
  private readonly credentials = new HandleMap<Credential>();
  private readonly contexts = new HandleMap<LsaContext>();
  /** Each account's NT hash, computed from the account store's password the first time the account is used. */
  private readonly accountKeys = new Map<string, AccountKey>();
  private nextHandle = 1;

  /** SpInitialize: settings (a bad one throws NtlmSettingsError, which the LSA reports by name) and the machine's names. */
  readonly SpInitialize: SecpkgFunctionTable['Initialize'] = (id, parameters, functionTable) => {
    this.settings = parseSettings(parameters.PackageSettings);
    this.lsa.bind(id, functionTable);
    this.machineState = parameters.MachineState;
    this.names = {
      computerName: parameters.ComputerName,
      dnsComputerName: parameters.DnsComputerName,
      domainName: parameters.DomainName,
      dnsDomainName: parameters.DnsDomainName,
    };
    return STATUS_SUCCESS;
  };

  readonly SpGetInfo: SecpkgFunctionTable['GetInfo'] = () => ({ status: STATUS_SUCCESS, PackageInfo: packageInfo() });

  /** A process logged on as an account: keep its NT hash and names with its logon session (the password is dropped here). */
  readonly SpAcceptCredentials: SecpkgFunctionTable['AcceptCredentials'] = (_logonType, _accountName, primary) => {
    if (primary === null) return STATUS_SUCCESS;
    const lsa = this.lsa.functions;
    const id = this.lsa.packageId;
    lsa.AddCredential(primary.LogonId, id, LOGON_NT_HASH, ntowfv1(primary.Password));
    lsa.AddCredential(primary.LogonId, id, LOGON_USER, Buffer.from(primary.DownlevelName, 'utf8'));
    lsa.AddCredential(primary.LogonId, id, LOGON_DOMAIN, Buffer.from(primary.DomainName, 'utf8'));
    return STATUS_SUCCESS;
  };

  /**
   * Explicit credentials are read from the caller's process (CopyFromClientBuffer) and turned into
   * an NT hash at once; default credentials are the calling process's logon session's.
   */
  readonly SpAcquireCredentialsHandle: SecpkgFunctionTable['AcquireCredentialsHandle'] = async (_principal, use, _logonId, authData) => {
    let identity: Identity | undefined;
    if (use & SECPKG_CRED.OUTBOUND) {
      const found = authData === null ? this.logonIdentity() : await this.explicitIdentity(authData.address, authData.length);
      if (typeof found === 'number') return { status: found };
      identity = found;
    }
    const handle = this.nextHandle++;
    this.credentials.set(handle, { use, identity });
    return { status: SEC_E_OK, CredentialHandle: handle, ExpirationTime: TIMESTAMP_NEVER };
  };

  readonly SpQueryCredentialsAttributes: SecpkgFunctionTable['QueryCredentialsAttributes'] = (handle, attribute) => {
    const credential = this.credentials.get(handle);
    if (credential === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (attribute !== SECPKG_CRED_ATTR.NAMES || credential.identity === undefined) return { status: SEC_E_UNSUPPORTED_FUNCTION };
    return { status: SEC_E_OK, Buffer: { sUserName: `${credential.identity.domain}\\${credential.identity.user}` } };
  };

  readonly SpFreeCredentialsHandle: SecpkgFunctionTable['FreeCredentialsHandle'] = (handle) => {
    const credential = this.credentials.get(handle);
    if (credential === undefined) return SEC_E_INVALID_HANDLE;
    credential.identity?.ntHash.fill(0);
    this.credentials.delete(handle);
    return SEC_E_OK;
  };

  /** InitializeSecurityContext: the NEGOTIATE leg without a context, the AUTHENTICATE leg with one. */
  readonly SpInitLsaModeContext: SecpkgFunctionTable['InitLsaModeContext'] = (credHandle, ctxHandle, targetName, requirements, _drep, input, output) => {
    if (ctxHandle === null) return this.negotiateLeg(credHandle, targetName, requirements, input ?? [], output);
    const context = this.contexts.get(ctxHandle);
    if (context?.role === 'client' && context.stage === 'mic-pending') return this.serverMicLeg(ctxHandle, context, input ?? []);
    if (context?.role !== 'client' || context.stage !== 'negotiate-sent') return { status: SEC_E_INVALID_HANDLE };
    return this.authenticateLeg(ctxHandle, context, input ?? [], output);
  };

  /** AcceptSecurityContext: the CHALLENGE leg without a context, the verification of the AUTHENTICATE with one. */
  readonly SpAcceptLsaModeContext: SecpkgFunctionTable['AcceptLsaModeContext'] = (credHandle, ctxHandle, input, requirements, _drep, output) => {
    if (ctxHandle === null) return this.challengeLeg(credHandle, input, requirements, output);
    const context = this.contexts.get(ctxHandle);
    if (context?.role !== 'server' || context.stage !== 'challenge-sent') return { status: SEC_E_INVALID_HANDLE };
    return this.verifyLeg(ctxHandle, context, input, output, requirements);
  };

  readonly SpDeleteContext: SecpkgFunctionTable['DeleteContext'] = (handle) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    if (context.role === 'server' && context.logonId !== undefined) this.lsa.functions.DeleteLogonSession(context.logonId);
    if ('identity' in context) context.identity.ntHash.fill(0);
    if ('session' in context) context.session.exportedSessionKey.fill(0);
    this.contexts.delete(handle);
    return SEC_E_OK;
  };

  /** QueryContextAttributes for a context that is not (yet) mapped into its process. */
  readonly SpQueryContextAttributes: SecpkgFunctionTable['QueryContextAttributes'] = (handle, attribute) => {
    const found = this.contexts.get(handle);
    if (found === undefined) return { status: SEC_E_INVALID_HANDLE };
    // A context waiting for the server's mechListMIC answers with what it will be, still in progress.
    const context = 'complete' in found ? found.complete : found;
    const complete = found.stage === 'complete';
    switch (attribute) {
      case SECPKG_ATTR.SIZES:
        return { status: SEC_E_OK, Buffer: { ...SIZES } };
      case SECPKG_ATTR.PACKAGE_INFO:
        return { status: SEC_E_OK, Buffer: { PackageInfo: packageInfo() } };
      case SECPKG_ATTR.NEGOTIATION_INFO:
        return {
          status: SEC_E_OK,
          Buffer: { PackageInfo: packageInfo(), NegotiationState: complete ? SECPKG_NEGOTIATION.COMPLETE : SECPKG_NEGOTIATION.IN_PROGRESS },
        };
      case SECPKG_ATTR.FLAGS:
        return { status: SEC_E_OK, Buffer: { Flags: context.attributes } };
      case SECPKG_ATTR.LIFESPAN:
        return { status: SEC_E_OK, Buffer: { tsStart: timeStampFromDate(new Date(context.created)), tsExpiry: TIMESTAMP_NEVER } };
      case SECPKG_ATTR.NAMES:
        return context.userName === undefined ? { status: SEC_E_UNSUPPORTED_FUNCTION } : { status: SEC_E_OK, Buffer: { sUserName: context.userName } };
      default:
        return { status: SEC_E_UNSUPPORTED_FUNCTION };
    }
  };

  // -------------------------------------------------------------------------------------------
  // The client's legs

  private negotiateLeg(
    credHandle: LSA_SEC_HANDLE | null,
    targetName: string | null,
    requirements: number,
    input: SecBuffer[],
    output: SecBuffer[],
  ): SpContextResult {
    const credential = credHandle === null ? undefined : this.credentials.get(credHandle);
    if (credential === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (credential.identity === undefined) return { status: SEC_E_NO_CREDENTIALS };
    const negotiate = negotiateFor(requirements);
    if (!putToken(output, negotiate.bytes)) return { status: SEC_E_BUFFER_TOO_SMALL };
    const { user, domain, ntHash } = credential.identity;
    const context: ClientContext = {
      role: 'client',
      stage: 'negotiate-sent',
      // The context's own copy: freeing the credential mid-handshake must not change it.
      identity: { user, domain, userName: credential.identity.userName, ntHash: new Uint8Array(ntHash) },
      requested: requirements,
      targetName,
      negotiate,
      bindings: bindingsOf(input),
      attributes: clientAttributes(requirements, negotiate.flags),
      userName: credential.identity.userName,
      created: this.nowMs(),
    };
    const handle = this.nextHandle++;
    this.contexts.set(handle, context);
    return { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: handle, ContextAttributes: context.attributes, ExpirationTime: TIMESTAMP_NEVER };
  }

  private authenticateLeg(handle: LSA_SEC_HANDLE, context: ClientContext, input: SecBuffer[], output: SecBuffer[]): SpContextResult {
    const challenge = tokenBytes(input);
    if (challenge === undefined || challenge.length > NTLM_MAX_TOKEN) return fail(context, SEC_E_INVALID_TOKEN);
    const bindings = bindingsOf(input) ?? context.bindings;
    if (bindings !== undefined && 'malformed' in bindings) return fail(context, SEC_E_BAD_BINDINGS);
    const bindingsHash = bindings?.hash;
    const { user, domain, ntHash } = context.identity;
    const identity: ClientIdentity = { user, domain, ntHash, workstation: this.names.computerName };
    const now = this.now();
    const outcome = authenticateFor({
      negotiate: context.negotiate,
      challenge,
      identity,
      targetName: context.targetName,
      channelBindingsHash: bindingsHash,
      now,
    });
    context.identity.ntHash.fill(0); // one AUTHENTICATE per context: the hash is not needed again
    if (!outcome.ok) return fail(context, outcome.status);
    if (!putToken(output, outcome.bytes)) return fail(context, SEC_E_BUFFER_TOO_SMALL);

    const complete: CompleteContext = {
      role: 'client',
      stage: 'complete',
      attributes: clientAttributes(context.requested, outcome.flags),
      // The credential's own string where it can be (one per credential, not one per live context).
      userName: domain === '' ? `${outcome.serverDomain}\\${user}` : context.identity.userName,
      logonId: undefined,
      created: context.created,
    };
    const mechList = findBuffer(input, SECBUFFER.MECHLIST)?.pvBuffer;
    if (mechList !== undefined) return this.clientMicLeg(handle, complete, outcome, mechList, output, context.targetName ?? '');
    return this.completed(handle, complete, outcome, context.targetName ?? '', now);
  }

  /**
   * Under Negotiate: the client's mechListMIC goes out with its AUTHENTICATE (SECBUFFER_MECHLIST_SIGNATURE),
   * and the context waits for the server's, keeping the session key until then.
   */
  private clientMicLeg(
    handle: LSA_SEC_HANDLE,
    complete: CompleteContext,
    outcome: { flags: number; exportedSessionKey: Uint8Array; mic: boolean },
    mechList: Uint8Array,
    output: SecBuffer[],
    serverName: string,
  ): SpContextResult {
    const session = { flags: outcome.flags, exportedSessionKey: outcome.exportedSessionKey };
    const pending: MicPendingContext = {
      role: 'client',
      stage: 'mic-pending',
      complete,
      session,
      mechList: new Uint8Array(mechList),
      micRequired: outcome.mic,
      serverName,
    };
    this.contexts.set(handle, pending);
    const signature = signMechList({ ...session, side: 'client', mechList, before: NO_MECH_LIST_MICS });
    if (!putBuffer(output, SECBUFFER.MECHLIST_SIGNATURE, signature)) return failPending(pending, SEC_E_BUFFER_TOO_SMALL);
    return { status: SEC_I_CONTINUE_NEEDED, ContextAttributes: complete.attributes, ExpirationTime: TIMESTAMP_NEVER };
  }

  /**
   * Under Negotiate, the client's last call: the server's mechListMIC (SECBUFFER_MECHLIST_SIGNATURE)
   * checked; its absence is SEC_E_INVALID_TOKEN when the AUTHENTICATE carried a MIC, a wrong one
   * SEC_E_MESSAGE_ALTERED. Then the context completes and is mapped.
   */
  private serverMicLeg(handle: LSA_SEC_HANDLE, context: MicPendingContext, input: SecBuffer[]): SpContextResult {
    const token = tokenBytes(input);
    if (token !== undefined && token.length > 0) return failPending(context, SEC_E_INVALID_TOKEN);
    const mic = findBuffer(input, SECBUFFER.MECHLIST_SIGNATURE)?.pvBuffer;
    if (mic === undefined && context.micRequired) return failPending(context, SEC_E_INVALID_TOKEN);
    const sent = { sent: true, received: false };
    if (mic !== undefined && !verifyMechList({ ...context.session, side: 'client', mechList: context.mechList, before: sent }, mic))
      return failPending(context, SEC_E_MESSAGE_ALTERED);
    return this.completed(handle, context.complete, context.session, context.serverName, this.now(), { sent: true, received: mic !== undefined });
  }

  // -------------------------------------------------------------------------------------------
  // The server's legs

  private challengeLeg(credHandle: LSA_SEC_HANDLE | null, input: SecBuffer[], requirements: number, output: SecBuffer[]): SpContextResult {
    const credential = credHandle === null ? undefined : this.credentials.get(credHandle);
    if (credential === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (!(credential.use & SECPKG_CRED.INBOUND)) return { status: SEC_E_NO_CREDENTIALS };
    const negotiate = tokenBytes(input);
    if (negotiate === undefined || negotiate.length > NTLM_MAX_TOKEN) return { status: SEC_E_INVALID_TOKEN };
    const serverChallenge = this.settings.fixedServerChallenge ?? randomFromPool(8);
    const now = this.now();
    const outcome = challengeFor(negotiate, this.names, serverChallenge, now);
    if (!outcome.ok) return { status: outcome.status };
    if (!putToken(output, outcome.challenge)) return { status: SEC_E_BUFFER_TOO_SMALL };
    const context: ServerContext = {
      role: 'server',
      stage: 'challenge-sent',
      requested: requirements,
      exchange: outcome,
      bindings: bindingsOf(input),
      attributes: serverAttributes(requirements, outcome.offered),
      userName: undefined,
      logonId: undefined,
      created: now.getTime(),
    };
    const handle = this.nextHandle++;
    this.contexts.set(handle, context);
    return { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: handle, ContextAttributes: context.attributes, ExpirationTime: TIMESTAMP_NEVER };
  }

  private verifyLeg(
    handle: LSA_SEC_HANDLE,
    context: ServerContext,
    input: SecBuffer[],
    output: SecBuffer[],
    requirements: number,
  ): SpContextResult | Promise<SpContextResult> {
    const authenticate = tokenBytes(input);
    if (authenticate === undefined || authenticate.length > NTLM_MAX_TOKEN) return fail(context, SEC_E_INVALID_TOKEN);
    const check = {
      state: context.exchange,
      authenticate,
      bindings: bindingsOf(input) ?? context.bindings,
      policy: this.acceptPolicy(requirements),
      now: this.now(),
    };
    const read = readAuthenticate(check.state, authenticate);
    if (!read.ok) return fail(context, read.status);
    if (this.passesThrough(read.message.domainName, read.message.userName)) return this.passThroughLeg(handle, context, check, read, input, output);
    const account = this.accountKey(read.message.userName);
    const sessionBaseKey = proveNtlmV2(account?.ntHash ?? UNKNOWN_ACCOUNT_KEY, read.message, check.state.serverChallenge);
    if (account === undefined || sessionBaseKey === undefined) return fail(context, SEC_E_LOGON_DENIED);
    return this.verified(handle, context, finishAuthenticate(check, read, sessionBaseKey, account.name), input, output, check.now);
  }

  /** What the acceptor checks after the proof, for the call that carries the AUTHENTICATE_MESSAGE. */
  private acceptPolicy(requirements: number): AcceptPolicy {
    return {
      requireChannelBindings: this.settings.requireChannelBindings,
      // The flag of the call that checks the bindings, as the bindings themselves may come with it.
      allowMissingBindings: (requirements & ASC_REQ.ALLOW_MISSING_BINDINGS) !== 0,
      maxClockSkewSeconds: this.settings.maxClockSkewSeconds,
    };
  }

  /**
   * Whether a user's logon goes to the domain controller: on a domain member (MachineState
   * SECPKG_STATE_WORKSTATION), for every domain but this computer's own, as MSV1_0 decides (a
   * member holds only its local accounts' hashes); with no domain given, when no local account
   * has the name. On a domain controller and on a machine in no domain, never.
   */
  private passesThrough(domainName: string, userName: string): boolean {
    if ((this.machineState & SECPKG_STATE.WORKSTATION) === 0) return false;
    const domain = domainName.toLowerCase();
    if (domain === this.names.computerName.toLowerCase() || domain === this.names.dnsComputerName.toLowerCase()) return false;
    if (domain === '') return this.accountKey(userName) === undefined;
    return true;
  }

  /**
   * The AUTHENTICATE's proof checked by the domain controller (MS-APDS 3.1, NTLM pass-through):
   * the names, the server's challenge and the client's NTLMv2 response go out as a
   * NETLOGON_NETWORK_INFO through the LSA function CallPackagePassthrough (the LSA's Netlogon takes
   * it over the secure channel to the DC's NTLM package); the DC answers with the logon's status
   * and the SessionBaseKey, and the rest (key exchange, MIC, channel bindings, timestamp) is checked
   * here. No DC in time, or a DC that refuses this machine: SEC_E_NO_AUTHENTICATING_AUTHORITY. An
   * unknown user or a wrong password: SEC_E_LOGON_DENIED.
   */
  private async passThroughLeg(
    handle: LSA_SEC_HANDLE,
    context: ServerContext,
    check: Parameters<typeof finishAuthenticate>[0],
    read: ReadAuthenticate,
    input: SecBuffer[],
    output: SecBuffer[],
  ): Promise<SpContextResult> {
    context.stage = 'verifying';
    const { message } = read;
    const request = packNetworkLogon({
      logonDomainName: message.domainName,
      parameterControl: MSV1_0_PARAMETER_CONTROL,
      userName: message.userName,
      workstation: message.workstation,
      lmChallenge: context.exchange.serverChallenge,
      ntChallengeResponse: message.ntChallengeResponse,
      lmChallengeResponse: message.lmChallengeResponse,
    });
    const answer = await this.lsa.functions.CallPackagePassthrough(packageInfo().Name, null, request, request.length);
    // Deleted while the DC answered: nothing is left to complete.
    if (this.contexts.get(handle) !== context) return { status: SEC_E_INVALID_HANDLE };
    // No DC in time, a DC that refuses this machine, a DC without NTLM: no authority answered for the user.
    if (!isSuccess(answer.status)) return fail(context, SEC_E_NO_AUTHENTICATING_AUTHORITY);
    const logon = answer.ProtocolStatus ?? STATUS_SUCCESS;
    if (LOGON_REFUSALS.has(logon)) return fail(context, SEC_E_LOGON_DENIED);
    if (logon !== STATUS_SUCCESS) return fail(context, SEC_E_NO_AUTHENTICATING_AUTHORITY);
    let validation;
    try {
      validation = unpackValidation(answer.ProtocolReturnBuffer ?? new Uint8Array(0));
    } catch {
      return fail(context, SEC_E_INTERNAL_ERROR);
    }
    if (validation.status !== STATUS_SUCCESS) return fail(context, SEC_E_LOGON_DENIED);
    const account = `${validation.logonDomainName}\\${validation.effectiveName}`;
    const outcome = finishAuthenticate(check, read, validation.userSessionKey, account);
    validation.userSessionKey.fill(0);
    return this.verified(handle, context, outcome, input, output, check.now);
  }

  /** The last leg once the AUTHENTICATE verified (or not): the mechListMIC under Negotiate, the logon session, the mapped context. */
  private verified(
    handle: LSA_SEC_HANDLE,
    context: ServerContext,
    outcome: Accepted | Failure,
    input: SecBuffer[],
    output: SecBuffer[],
    now: Date,
  ): SpContextResult {
    if (!outcome.ok) return fail(context, outcome.status);
    const mechList = findBuffer(input, SECBUFFER.MECHLIST)?.pvBuffer;
    const mics = mechList === undefined ? NO_MECH_LIST_MICS : clientMic(outcome, mechList, input, output);
    if (typeof mics === 'number') {
      outcome.exportedSessionKey.fill(0);
      return fail(context, mics);
    }

    // The authenticated client gets a network logon session, as Windows creates one for its token.
    const logon = this.lsa.functions.CreateLogonSession(null);
    const complete: CompleteContext = {
      role: 'server',
      stage: 'complete',
      attributes: serverAttributes(context.requested, outcome.flags),
      userName: outcome.account,
      logonId: isSuccess(logon.status) ? logon.LogonId : undefined,
      created: context.created,
    };
    return this.completed(handle, complete, outcome, outcome.targetName ?? '', now, mics);
  }

  // -------------------------------------------------------------------------------------------
  // A domain controller's side of pass-through

  /**
   * LsaApCallPackagePassthrough: on a domain controller, a member's pass-through logon as its
   * Netlogon delivers it (a NETLOGON_NETWORK_INFO), checked against this LSA's accounts; the answer
   * is the logon's status and, on success, the SessionBaseKey and the user's names
   * (passthrough.ts). A buffer that is not one is STATUS_INVALID_PARAMETER.
   */
  readonly LsaApCallPackagePassthrough: SecpkgFunctionTable['CallPackagePassthrough'] = (_request, submit, _base, length) => {
    let info;
    try {
      info = unpackNetworkLogon(submit.subarray(0, length));
    } catch {
      return { status: STATUS_INVALID_PARAMETER };
    }
    const validation = validateNetworkLogon(info, (user) => this.accountKey(user), {
      domainName: this.names.domainName,
      computerName: this.names.computerName,
    });
    const ProtocolReturnBuffer = packValidation(validation);
    validation.userSessionKey.fill(0);
    // The logon's status is the call's answer too, as NetrLogonSamLogon returns it: the DC's log and the member's trace name it.
    return { status: STATUS_SUCCESS, ProtocolStatus: validation.status, ProtocolReturnBuffer, ReturnBufferLength: ProtocolReturnBuffer.length };
  };

  // -------------------------------------------------------------------------------------------
  // Credentials and keys

  /** SEC_WINNT_AUTH_IDENTITY from the caller's process, wiped once read. */
  private async explicitIdentity(address: number, length: number): Promise<Identity | Status> {
    const copied = await this.lsa.functions.CopyFromClientBuffer(null, length, address);
    const bytes = copied.BufferToCopy;
    if (!isSuccess(copied.status) || bytes === undefined) return SEC_E_UNKNOWN_CREDENTIALS;
    const identity = unpackAuthIdentity(bytes);
    bytes.fill(0);
    if (identity === undefined || identity.User === '') return SEC_E_UNKNOWN_CREDENTIALS;
    return identityOf(identity.User, identity.Domain, ntowfv1(identity.Password));
  }

  /** The calling process's logon: what SpAcceptCredentials stored. */
  private logonIdentity(): Identity | Status {
    const lsa = this.lsa.functions;
    const client = lsa.GetClientInfo().ClientInfo;
    if (client === undefined) return SEC_E_NO_CREDENTIALS;
    const read = (key: string): Uint8Array | undefined => lsa.GetCredentials(client.LogonId, this.lsa.packageId, 0, false, key).Credentials;
    const ntHash = read(LOGON_NT_HASH);
    const user = read(LOGON_USER);
    const domain = read(LOGON_DOMAIN);
    if (ntHash === undefined || user === undefined || domain === undefined) return SEC_E_NO_CREDENTIALS;
    return identityOf(Buffer.from(user).toString('utf8'), Buffer.from(domain).toString('utf8'), ntHash);
  }

  /**
   * An account's NT hash, whatever domain the client named (a local account is found by its user
   * name). The hash is computed once per account and cached by the account's own name, so names
   * a client makes up ("alice@x1", "alice@x2", ...) cannot grow the cache.
   */
  private accountKey(userName: string): AccountKey | undefined {
    const lsa = this.lsa.functions;
    const opened = lsa.OpenSamUser(userName, SECPKG_NAME_TYPE.SecNameSamCompatible, null, false, 0);
    if (!isSuccess(opened.status) || opened.UserHandle === undefined) return undefined;
    try {
      const primary = lsa.GetUserCredentials(opened.UserHandle).PrimaryCreds;
      if (primary === undefined) return undefined;
      const name = `${primary.DomainName}\\${primary.DownlevelName}`;
      let key = this.accountKeys.get(name.toLowerCase());
      if (key === undefined) {
        key = { ntHash: ntowfv1(primary.Password), name };
        this.accountKeys.set(name.toLowerCase(), key);
      }
      return key;
    } finally {
      lsa.CloseSamUser(opened.UserHandle);
    }
  }

  /**
   * The last leg's answer: the context is complete (its compact record replaces the handshake's
   * state) and mapped into the application's process, its ContextData the session key the
   * user-mode half derives its signing and sealing keys from.
   */
  private completed(
    handle: LSA_SEC_HANDLE,
    complete: CompleteContext,
    session: { flags: number; exportedSessionKey: Uint8Array },
    serverName: string,
    now: Date,
    mechListMics: MechListMics = NO_MECH_LIST_MICS,
  ): SpContextResult {
    this.contexts.set(handle, complete);
    const { attributes, userName, role: side } = complete;
    const ContextData = packContextData({
      side,
      flags: session.flags,
      attributes,
      established: timeStampFromDate(now),
      exportedSessionKey: session.exportedSessionKey,
      userName,
      serverName,
      mechListMics,
    });
    session.exportedSessionKey.fill(0); // the LSA keeps no key of a mapped context
    return { status: SEC_E_OK, NewContextHandle: handle, ContextAttributes: attributes, ExpirationTime: TIMESTAMP_NEVER, MappedContext: true, ContextData };
  }

  private now(): Date {
    return this.settings.fixedTime ?? new Date();
  }

  /** now() as a number, for a leg that needs no Date (`new Date()` costs four times Date.now()). */
  private nowMs(): number {
    return this.settings.fixedTime?.getTime() ?? Date.now();
  }
}

/** A domain controller's answers that mean "not this user with this password": SEC_E_LOGON_DENIED, never told apart to the client. */
const LOGON_REFUSALS: ReadonlySet<number> = new Set([STATUS_NO_SUCH_USER, STATUS_WRONG_PASSWORD, STATUS_LOGON_FAILURE]);

/** A failed leg leaves its context unusable: later calls with it are SEC_E_INVALID_HANDLE. */
function fail(context: LsaContext, status: Status): SpContextResult {
  context.stage = 'failed';
  return { status };
}

/** A failed mechListMIC leg: the session key goes, the context is unusable. */
function failPending(context: MicPendingContext, status: Status): SpContextResult {
  context.session.exportedSessionKey.fill(0);
  context.stage = 'failed';
  return { status };
}

/**
 * Under Negotiate, the server's side of the mechListMIC with the AUTHENTICATE: the client's
 * checked (absent: SEC_E_INVALID_TOKEN when the AUTHENTICATE carried a MIC; wrong:
 * SEC_E_MESSAGE_ALTERED), then the server's own into SECBUFFER_MECHLIST_SIGNATURE. A client that
 * sent none gets none (RFC 4178 5: the acceptor answers a MIC with one).
 */
function clientMic(
  outcome: { flags: number; exportedSessionKey: Uint8Array; mic: boolean },
  mechList: Uint8Array,
  input: SecBuffer[],
  output: SecBuffer[],
): MechListMics | Status {
  const mic = findBuffer(input, SECBUFFER.MECHLIST_SIGNATURE)?.pvBuffer;
  if (mic === undefined) return outcome.mic ? SEC_E_INVALID_TOKEN : NO_MECH_LIST_MICS;
  const session = { flags: outcome.flags, exportedSessionKey: outcome.exportedSessionKey, side: 'server' as const, mechList };
  if (!verifyMechList({ ...session, before: NO_MECH_LIST_MICS }, mic)) return SEC_E_MESSAGE_ALTERED;
  if (!putBuffer(output, SECBUFFER.MECHLIST_SIGNATURE, signMechList({ ...session, before: { sent: false, received: true } }))) return SEC_E_BUFFER_TOO_SMALL;
  return { sent: true, received: true };
}

/** Writes an output buffer of a type the caller gave (the package allocates it); false when there is none. */
function putBuffer(output: SecBuffer[], type: number, bytes: Uint8Array): boolean {
  const buffer = findBuffer(output, type);
  if (buffer === undefined) return false;
  buffer.pvBuffer = bytes;
  return true;
}

/** The digest of the SEC_CHANNEL_BINDINGS an application passes as SECBUFFER_CHANNEL_BINDINGS. */
function bindingsOf(buffers: SecBuffer[]): BindingsDigest | undefined {
  const bytes = findBuffer(buffers, SECBUFFER.CHANNEL_BINDINGS)?.pvBuffer;
  return bytes === undefined ? undefined : digestBindings(bytes);
}

/** SECPKG_FUNCTION_TABLE of a fresh NTLM package instance. */
export function createLsaModeTable(): SecpkgFunctionTable {
  const p = new NtlmLsaPackage();
  return {
    ...UNUSED_LSA_MEMBERS,
    LogonTerminated: () => undefined, // the logon's NT hash goes away with the session's credentials
    CallPackagePassthrough: p.LsaApCallPackagePassthrough,
    Initialize: p.SpInitialize,
    Shutdown: () => STATUS_SUCCESS,
    GetInfo: p.SpGetInfo,
    AcceptCredentials: p.SpAcceptCredentials,
    AcquireCredentialsHandle: p.SpAcquireCredentialsHandle,
    QueryCredentialsAttributes: p.SpQueryCredentialsAttributes,
    FreeCredentialsHandle: p.SpFreeCredentialsHandle,
    InitLsaModeContext: p.SpInitLsaModeContext,
    AcceptLsaModeContext: p.SpAcceptLsaModeContext,
    DeleteContext: p.SpDeleteContext,
    ApplyControlToken: () => SEC_E_UNSUPPORTED_FUNCTION,
    GetExtendedInformation: () => ({ status: SEC_E_UNSUPPORTED_FUNCTION }),
    QueryContextAttributes: p.SpQueryContextAttributes,
  };
}
