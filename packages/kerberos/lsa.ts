// The Kerberos package's LSA-mode half (SECPKG_FUNCTION_TABLE), loaded into the LSA at boot. It holds
// every long-term secret and every ticket: the passwords of the processes' logons
// (SpAcceptCredentials) and of explicit credentials, the keys made from them, the TGTs and service
// tickets with their session keys (each identity's TicketCache), and the service keys the acceptor
// opens tickets with. None of it leaves the LSA: a completed context hands its process ContextData
// with the subkeys of its own AP exchange and its sequence numbers (context-data.ts).
//
// It talks to the realm's KDCs itself, from the LSA's dispatch thread, over UDP and TCP
// (transport.ts), every call with one deadline (kdcTimeoutMs).
//
//   client                                          server
//   apRequestLeg: TGT (cache, or AS) -> service ticket (cache, or TGS) -> AP-REQ
//                  -- AP-REQ (InitialContextToken) -->  acceptLeg: ticket, authenticator, replay
//                                                       cache, bindings; SEC_E_OK (and MappedContext)
//   apReplyLeg    <-- AP-REP (mutual authentication) --
//   SEC_E_OK and MappedContext on the client
//
// Without ISC_REQ_MUTUAL_AUTH the client completes on its first call and no AP-REP comes.
//
// Under Negotiate, the mechListMIC (RFC 4178 5): Negotiate gives SECBUFFER_MECHLIST (the initiator's
// DER MechTypeList) when the exchange is on (SPNEGO requires it, or the peer sent its MIC). Each side
// then makes its MIC over the list (a MIC token, RFC 4121 4.2.6.1, with the context's keys) into
// SECBUFFER_MECHLIST_SIGNATURE as soon as its AP exchange is done, and checks the peer's
// (SECBUFFER_MECHLIST_SIGNATURE in the input; a wrong one is SEC_E_MESSAGE_ALTERED); each MIC takes a
// sequence number, as MIT's SPNEGO's gss_get_mic does. A side whose AP exchange is done before the
// peer's MIC came answers SEC_I_CONTINUE_NEEDED with its MIC and completes on the call that brings
// the peer's: the acceptor after its AP-REP, when the initiator's MIC follows.

import {
  ASC_REQ,
  ISC_REQ,
  SECBUFFER,
  SECPKG_ATTR,
  SECPKG_CRED,
  SECPKG_CRED_ATTR,
  SECPKG_NEGOTIATION,
  SEC_E_BAD_BINDINGS,
  SEC_E_BUFFER_TOO_SMALL,
  SEC_E_CONTEXT_EXPIRED,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_MESSAGE_ALTERED,
  SEC_E_NO_AUTHENTICATING_AUTHORITY,
  SEC_E_NO_CREDENTIALS,
  SEC_E_OK,
  SEC_E_TARGET_UNKNOWN,
  SEC_E_UNKNOWN_CREDENTIALS,
  SEC_E_UNSUPPORTED_FUNCTION,
  SEC_I_CONTINUE_NEEDED,
  STATUS_SUCCESS,
  TIMESTAMP_NEVER,
  findBuffer,
  isSuccess,
  timeStampFromDate,
  type LSA_SEC_HANDLE,
  type LUID,
  type SecBuffer,
  type SecpkgFunctionTable,
  type SpContextResult,
  type Status,
} from '../../headers/index.js';
import { HandleMap, LsaBinding, putToken, runLsaWork, tokenBytes, unpackAuthIdentity, UNUSED_LSA_MEMBERS } from '../kit/index.js';
import {
  acceptApRequest,
  initialSequence,
  makeApReply,
  makeApRequest,
  makeErrorToken,
  readApReply,
  type AcceptedApRequest,
  type ApRequest,
} from './ap-exchange.js';
import { makeRandomKey, stringToKeyFromPbkdf2, stringToKeyPbkdf2, wipeKey, type EncryptionKey } from './crypto/index.js';
import { kerberosCallPackage, SYSTEM_LUID } from './call-package.js';
import { packContextData } from './context-data.js';
import { channelBindingsHash, GSS_C, NO_BINDINGS } from './gss-checksum.js';
import {
  clientAttributes,
  gssFlagsFor,
  KERBEROS_MAX_TOKEN,
  packageInfo,
  serverAttributes,
  sizesFor,
  UNSUPPORTED_ASC_REQ,
  UNSUPPORTED_ISC_REQ,
} from './info.js';
import { KdcClient, kdcCall, newClientSecret, wipeClientSecret, type ClientSecret, type DeriveKey, type KdcCall } from './kdc-client.js';
import { MessageProtection, type Side } from './message-tokens.js';
import { KRB_ERROR_CODE } from './messages/index.js';
import { clientPrincipal, formatPrincipal, targetPrincipal, type Principal } from './names.js';
import { ReplayCache } from './replay-cache.js';
import { SequenceWindow } from './sequence.js';
import { ServiceKeys } from './service-keys.js';
import { DEFAULT_SETTINGS, parseSettings, type KerberosSettings } from './settings.js';
import { failure, isFailure, type KerberosFailure } from './statuses.js';
import { TicketCache, type CachedTicket } from './tickets.js';

/**
 * A client identity: who it is, its password and keys, its tickets. Released when its credential is
 * freed (an explicit credential's) or its logon ends; its secrets are wiped then, or, when calls
 * are still using them (an InitializeSecurityContext waiting for the KDC: its AS exchange derives
 * keys from the password, its TGS exchange opens the reply with the TGT's session key), when the last
 * of them ends: a call under way keeps what it started with, as a Windows call holds a reference to
 * its credential. A context needs none of it once its AP-REQ is made (it keeps its own copy of the
 * ticket's session key), so freeing the credential leaves its contexts working.
 */
interface ClientIdentity {
  /** As given: DOMAIN\user or user@realm (SECPKG_CRED_ATTR_NAMES when there is no principal). */
  readonly display: string;
  /** Undefined when the domain is not this machine's realm: there is no KDC to ask (SEC_E_NO_AUTHENTICATING_AUTHORITY). */
  readonly secret: ClientSecret | undefined;
  readonly cache: TicketCache;
  /** Calls using the secret and tickets right now (KerberosLsaPackage.using). */
  inUse: number;
  /** Its credential was freed or its logon ended: wiped when `inUse` falls to 0. */
  released: boolean;
}

/** A process's logon, as SpAcceptCredentials gave it. */
interface LogonState {
  readonly identity: ClientIdentity;
  /** Why the TGT could not be had at logon, when it could not (the first use tries again). */
  logonFailure: KerberosFailure | undefined;
}

interface Credential {
  readonly use: number;
  /** Outbound: the identity (a logon's, shared with it, or an explicit credential's own). */
  readonly identity: ClientIdentity | undefined;
  /** Whether the identity is the credential's own (freed with it) or its logon's. */
  readonly owned: boolean;
  /** Inbound: the one service an acquire named, or any this machine has keys for. */
  readonly acceptFor: Principal | undefined;
}

interface ClientContext {
  readonly role: 'client';
  stage: 'ap-req-sent' | 'failed';
  readonly identity: ClientIdentity;
  readonly ticket: CachedTicket;
  /**
   * The ticket's session key, the context's own copy: the cache may drop or replace the ticket (and
   * wipe its key) while this context waits for its AP-REP, when another context's acceptor refused
   * the ticket or a new one was fetched. Wiped when the AP-REP has been read, or the context deleted.
   */
  readonly sessionKey: EncryptionKey;
  readonly request: ApRequest;
  readonly requirements: number;
  readonly gssFlags: number;
  readonly attributes: number;
  readonly created: Date;
}

/** A context whose AP exchange completed (or failed after it began): what the LSA still answers for it. */
interface CompleteContext {
  readonly role: 'client' | 'server';
  /** mic-pending: done but for the peer's mechListMIC (under Negotiate), which `micPending` waits for. */
  stage: 'complete' | 'failed' | 'mic-pending';
  readonly attributes: number;
  readonly clientName: string;
  readonly serverName: string;
  readonly etype: number;
  readonly expires: Date;
  readonly created: Date;
  /** The network logon session made for an authenticated client (server side). */
  readonly logonId: LUID | undefined;
  /** While mic-pending: the message protection the ContextData will be made of, and the GSS flags. */
  micPending?: { readonly protection: MessageProtection; readonly gssFlags: number } | undefined;
}

type LsaContext = ClientContext | CompleteContext;

/** One instance per SpLsaModeInitialize: the package's whole LSA-side state. */
class KerberosLsaPackage {
  private readonly lsa = new LsaBinding('Kerberos');
  private settings: KerberosSettings = DEFAULT_SETTINGS;
  private kdc: KdcClient | undefined;
  private serviceKeys: ServiceKeys | undefined;
  private readonly replayCache = new ReplayCache();
  private readonly shutdown = new AbortController();
  private readonly logons = new Map<LUID, LogonState>();
  /** Not Maps: one per handshake comes and goes (the kit's HandleMap, ipc/handle-map.ts). */
  private readonly credentials = new HandleMap<Credential>();
  private readonly contexts = new HandleMap<LsaContext>();
  private nextHandle = 1;

  /** SpInitialize: the settings (a bad one throws KerberosSettingsError, which the LSA reports naming it), the KDC client, the service keys. */
  readonly SpInitialize: SecpkgFunctionTable['Initialize'] = (id, parameters, functionTable) => {
    this.settings = parseSettings(parameters.PackageSettings);
    this.lsa.bind(id, functionTable);
    const derive: DeriveKey = async (etype, password, salt, params) => {
      const p = stringToKeyPbkdf2(etype, password, salt, params);
      const tkey = await runLsaWork(this.lsa.functions, 'BCryptDeriveKeyPBKDF2', {
        Prf: p.prf,
        Password: p.password,
        Salt: p.salt,
        Iterations: p.iterations,
        DerivedKeyLength: p.keyLength,
      });
      p.password.fill(0);
      const key = stringToKeyFromPbkdf2(etype, tkey);
      tkey.fill(0);
      return key;
    };
    this.kdc = new KdcClient(this.settings, () => this.now(), derive);
    this.serviceKeys = new ServiceKeys(this.settings, () => this.lsa.functions, derive);
    return STATUS_SUCCESS;
  };

  readonly SpShutdown: SecpkgFunctionTable['Shutdown'] = () => {
    this.shutdown.abort();
    for (const state of this.logons.values()) this.forget(state.identity);
    this.logons.clear();
    for (const credential of this.credentials.values()) if (credential.owned && credential.identity !== undefined) this.forget(credential.identity);
    this.credentials.clear();
    this.serviceKeys?.wipe();
    return STATUS_SUCCESS;
  };

  readonly SpGetInfo: SecpkgFunctionTable['GetInfo'] = () => ({ status: STATUS_SUCCESS, PackageInfo: packageInfo() });

  /**
   * A process logged on: its password is kept with its logon (as Windows' Kerberos keeps it, to get
   * TGTs again), and, when the machine is in a realm, the AS exchange runs now, so the logon has its
   * TGT before its first handshake. A TGT that cannot be had now (no KDC, a wrong password) does not
   * stop the logon: the first InitializeSecurityContext tries again and answers why.
   */
  readonly SpAcceptCredentials: SecpkgFunctionTable['AcceptCredentials'] = async (_logonType, _accountName, primary) => {
    if (primary === null) return STATUS_SUCCESS;
    const identity = this.newIdentity(primary.DownlevelName, primary.DomainName, primary.Password);
    const state: LogonState = { identity, logonFailure: undefined };
    const old = this.logons.get(primary.LogonId);
    if (old !== undefined) this.release(old.identity);
    this.logons.set(primary.LogonId, state);
    if (identity.secret !== undefined && this.settings.kdcs.length > 0) {
      const tgt = await this.using(identity, () => this.tgtOf(identity, kdcCall(this.settings, this.shutdown.signal)));
      if (isFailure(tgt)) state.logonFailure = tgt;
    }
    return STATUS_SUCCESS;
  };

  /** The logon ended: its password, keys and tickets go. */
  readonly LsaApLogonTerminated: SecpkgFunctionTable['LogonTerminated'] = (logonId) => {
    const state = this.logons.get(logonId);
    if (state === undefined) return;
    this.logons.delete(logonId);
    // Credentials acquired on it keep a reference; they find nothing to use from now on.
    this.release(state.identity);
  };

  /**
   * LsaCallAuthenticationPackage from an application (an untrusted connection): the caller's logon
   * and privilege come from the LSA (GetClientInfo, its connection), never from the buffer; the
   * messages in call-package.ts.
   */
  readonly LsaApCallPackageUntrusted: SecpkgFunctionTable['CallPackageUntrusted'] = (_request, submit) => {
    const info = this.lsa.functions.GetClientInfo();
    if (info.ClientInfo === undefined) return { status: info.status };
    return kerberosCallPackage(submit, { logonId: info.ClientInfo.LogonId, tcb: info.ClientInfo.HasTcbPrivilege }, this.logonCache);
  };

  /**
   * LsaApCallPackage: a trusted caller's (a registered logon process holds SeTcbPrivilege; here the
   * LSA's own, from the machine): it may name any logon. Outside a client call it runs as SYSTEM.
   */
  readonly LsaApCallPackage: SecpkgFunctionTable['CallPackage'] = (_request, submit) => {
    const client = this.lsa.functions.GetClientInfo().ClientInfo;
    return kerberosCallPackage(submit, { logonId: client?.LogonId ?? SYSTEM_LUID, tcb: true }, this.logonCache);
  };

  /** The ticket cache of a logon session this package holds (SpAcceptCredentials gave it), if any. */
  private readonly logonCache = (logonId: LUID): TicketCache | undefined => this.logons.get(logonId)?.identity.cache;

  /**
   * Outbound: explicit credentials (read from the caller's memory, wiped there) or the process's own
   * logon. Inbound: this machine's service keys (a keytab, the account store), for any service it
   * has keys for or the one pszPrincipal names; SEC_E_NO_CREDENTIALS when it has none (no realm).
   */
  readonly SpAcquireCredentialsHandle: SecpkgFunctionTable['AcquireCredentialsHandle'] = async (principal, use, _logonId, authData) => {
    let identity: ClientIdentity | undefined;
    let owned = false;
    let acceptFor: Principal | undefined;
    if (use & SECPKG_CRED.OUTBOUND) {
      if (authData === null) {
        const client = this.lsa.functions.GetClientInfo().ClientInfo;
        const state = client === undefined ? undefined : this.logons.get(client.LogonId);
        if (state === undefined) return { status: SEC_E_NO_CREDENTIALS };
        identity = state.identity;
      } else {
        const copied = await this.lsa.functions.CopyFromClientBuffer(null, authData.length, authData.address);
        const bytes = copied.BufferToCopy;
        if (!isSuccess(copied.status) || bytes === undefined) return { status: SEC_E_UNKNOWN_CREDENTIALS };
        const given = unpackAuthIdentity(bytes);
        bytes.fill(0);
        if (given === undefined || given.User === '') return { status: SEC_E_UNKNOWN_CREDENTIALS };
        identity = this.newIdentity(given.User, given.Domain, given.Password);
        owned = true;
      }
    }
    if (use & SECPKG_CRED.INBOUND) {
      const keys = this.serviceKeys!;
      await keys.refresh();
      if (!keys.any) {
        if (owned && identity !== undefined) this.forget(identity);
        return { status: SEC_E_NO_CREDENTIALS };
      }
      if (principal !== null && principal !== '') {
        acceptFor = targetPrincipal(principal, this.settings.realm!);
        if (acceptFor === undefined || !keys.holds(acceptFor)) {
          if (owned && identity !== undefined) this.forget(identity);
          return { status: SEC_E_NO_CREDENTIALS };
        }
      }
    }
    const handle = this.nextHandle++;
    this.credentials.set(handle, { use, identity, owned, acceptFor });
    return { status: SEC_E_OK, CredentialHandle: handle, ExpirationTime: TIMESTAMP_NEVER };
  };

  readonly SpQueryCredentialsAttributes: SecpkgFunctionTable['QueryCredentialsAttributes'] = (handle, attribute) => {
    const credential = this.credentials.get(handle);
    if (credential === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (attribute !== SECPKG_CRED_ATTR.NAMES) return { status: SEC_E_UNSUPPORTED_FUNCTION };
    const identity = credential.identity;
    if (identity !== undefined) {
      const secret = identity.secret;
      return {
        status: SEC_E_OK,
        Buffer: { sUserName: secret === undefined ? identity.display : formatPrincipal(secret.principal.name, secret.principal.realm) },
      };
    }
    if (credential.acceptFor !== undefined)
      return { status: SEC_E_OK, Buffer: { sUserName: formatPrincipal(credential.acceptFor.name, credential.acceptFor.realm) } };
    return { status: SEC_E_UNSUPPORTED_FUNCTION };
  };

  readonly SpFreeCredentialsHandle: SecpkgFunctionTable['FreeCredentialsHandle'] = (handle) => {
    const credential = this.credentials.get(handle);
    if (credential === undefined) return SEC_E_INVALID_HANDLE;
    this.credentials.delete(handle);
    // Its contexts go on (each holds its own keys); a call of it still talking to the KDC finishes first.
    if (credential.owned && credential.identity !== undefined) this.release(credential.identity);
    return SEC_E_OK;
  };

  /** InitializeSecurityContext: the AP-REQ without a context, the AP-REP with one. */
  readonly SpInitLsaModeContext: SecpkgFunctionTable['InitLsaModeContext'] = async (credHandle, ctxHandle, targetName, requirements, _drep, input, output) => {
    if (ctxHandle === null) return this.apRequestLeg(credHandle, targetName, requirements, input ?? [], output);
    const context = this.contexts.get(ctxHandle);
    if (context?.role !== 'client') return { status: SEC_E_INVALID_HANDLE };
    if (context.stage === 'mic-pending' && !('request' in context)) return this.peerMicLeg(ctxHandle, context, input ?? []);
    if (context.stage !== 'ap-req-sent' || !('request' in context)) return { status: SEC_E_INVALID_HANDLE };
    return this.apReplyLeg(ctxHandle, context, input ?? [], output);
  };

  /**
   * AcceptSecurityContext: one leg, the AP-REQ in, SEC_E_OK (and an AP-REP for mutual authentication)
   * out; under Negotiate's mechListMIC exchange, a second leg may bring the initiator's MIC.
   */
  readonly SpAcceptLsaModeContext: SecpkgFunctionTable['AcceptLsaModeContext'] = async (credHandle, ctxHandle, input, requirements, _drep, output) => {
    if (ctxHandle === null) return this.acceptLeg(credHandle, input, requirements, output);
    const context = this.contexts.get(ctxHandle);
    if (context?.role !== 'server' || context.stage !== 'mic-pending' || 'request' in context) return { status: SEC_E_INVALID_HANDLE };
    return this.peerMicLeg(ctxHandle, context, input);
  };

  readonly SpDeleteContext: SecpkgFunctionTable['DeleteContext'] = (handle) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    this.contexts.delete(handle);
    if ('request' in context) {
      wipeKey(context.request.subkey);
      wipeKey(context.sessionKey);
    } else context.micPending?.protection.wipe();
    if ('logonId' in context && context.logonId !== undefined) this.lsa.functions.DeleteLogonSession(context.logonId);
    return SEC_E_OK;
  };

  /** QueryContextAttributes for a context not (yet) mapped into its process. */
  readonly SpQueryContextAttributes: SecpkgFunctionTable['QueryContextAttributes'] = (handle, attribute) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return { status: SEC_E_INVALID_HANDLE };
    const complete = context.stage === 'complete';
    const pending = 'request' in context ? context : undefined;
    const etype = pending?.ticket.sessionKey.keytype ?? (context as CompleteContext).etype;
    switch (attribute) {
      case SECPKG_ATTR.SIZES:
        return { status: SEC_E_OK, Buffer: sizesFor(etype) };
      case SECPKG_ATTR.PACKAGE_INFO:
        return { status: SEC_E_OK, Buffer: { PackageInfo: packageInfo() } };
      case SECPKG_ATTR.NEGOTIATION_INFO:
        return {
          status: SEC_E_OK,
          Buffer: { PackageInfo: packageInfo(), NegotiationState: complete ? SECPKG_NEGOTIATION.COMPLETE : SECPKG_NEGOTIATION.IN_PROGRESS },
        };
      case SECPKG_ATTR.FLAGS:
        return { status: SEC_E_OK, Buffer: { Flags: context.attributes } };
      case SECPKG_ATTR.LIFESPAN: {
        const expires = pending?.ticket.endtime ?? (context as CompleteContext).expires;
        return { status: SEC_E_OK, Buffer: { tsStart: timeStampFromDate(context.created), tsExpiry: timeStampFromDate(expires) } };
      }
      case SECPKG_ATTR.NAMES: {
        const name = pending !== undefined ? formatPrincipal(pending.ticket.client.name, pending.ticket.client.realm) : (context as CompleteContext).clientName;
        return { status: SEC_E_OK, Buffer: { sUserName: name } };
      }
      default:
        return { status: SEC_E_UNSUPPORTED_FUNCTION };
    }
  };

  // -------------------------------------------------------------------------------------------
  // The client's legs

  private async apRequestLeg(
    credHandle: LSA_SEC_HANDLE | null,
    targetName: string | null,
    requirements: number,
    input: SecBuffer[],
    output: SecBuffer[],
  ): Promise<SpContextResult> {
    const credential = credHandle === null ? undefined : this.credentials.get(credHandle);
    if (credential === undefined) return { status: SEC_E_INVALID_HANDLE };
    const identity = credential.identity;
    if (identity === undefined) return { status: SEC_E_NO_CREDENTIALS };
    if ((requirements & UNSUPPORTED_ISC_REQ) !== 0) return { status: SEC_E_UNSUPPORTED_FUNCTION };
    const realm = this.settings.realm;
    // Not in a realm, or an account of another domain: nobody to ask, and no packet goes out.
    if (realm === undefined || identity.secret === undefined) return { status: SEC_E_NO_AUTHENTICATING_AUTHORITY };
    const server = targetPrincipal(targetName, realm);
    if (server === undefined) return { status: SEC_E_TARGET_UNKNOWN };
    const bindings = bindingsHashOf(input);
    if (typeof bindings === 'string') return { status: SEC_E_BAD_BINDINGS };

    const call = kdcCall(this.settings, this.shutdown.signal);
    return this.using(identity, async () => {
      const ticket = await this.serviceTicketOf(identity, server, call);
      if (isFailure(ticket)) return { status: ticket.status };
      return this.sendApRequest(identity, ticket, requirements, bindings, input, output);
    });
  }

  /** The AP-REQ with the service ticket; the context that waits for its AP-REP keeps its own copy of the session key. */
  private sendApRequest(
    identity: ClientIdentity,
    ticket: CachedTicket,
    requirements: number,
    bindings: Uint8Array,
    input: SecBuffer[],
    output: SecBuffer[],
  ): SpContextResult {
    const mutual = (requirements & ISC_REQ.MUTUAL_AUTH) !== 0;
    const gssFlags = gssFlagsFor(requirements);
    const request = makeApRequest({ ticket, gssFlags, bindingsHash: bindings, mutual, now: this.now() });
    if (!putToken(output, request.token)) {
      wipeKey(request.subkey);
      return { status: SEC_E_BUFFER_TOO_SMALL };
    }
    const attributes = clientAttributes(requirements, mutual);
    const created = this.now();
    const handle = this.nextHandle++;
    if (!mutual) {
      // No AP-REP will come: the AP exchange is done now; both sides number from the initiator's first (RFC 1964 1.2.1.2).
      const protection = new MessageProtection({
        side: 'initiator',
        initiatorKey: request.subkey,
        acceptorKey: undefined,
        sendSeq: BigInt(request.sequence),
        window: new SequenceWindow(BigInt(request.sequence), { replay: (gssFlags & GSS_C.REPLAY) !== 0, sequence: (gssFlags & GSS_C.SEQUENCE) !== 0 }),
      });
      // The protection holds the subkey from here: finishExchange wipes it, or keeps it while the peer's MIC is awaited.
      const complete = this.completeContext('client', ticket, attributes, created);
      return this.finishExchange(handle, complete, protection, gssFlags, input, output, true);
    }
    const sessionKey = { keytype: ticket.sessionKey.keytype, keyvalue: Uint8Array.from(ticket.sessionKey.keyvalue) };
    const context: ClientContext = { role: 'client', stage: 'ap-req-sent', identity, ticket, sessionKey, request, requirements, gssFlags, attributes, created };
    this.contexts.set(handle, context);
    return { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: handle, ContextAttributes: attributes, ExpirationTime: timeStampFromDate(ticket.endtime) };
  }

  private async apReplyLeg(handle: LSA_SEC_HANDLE, context: ClientContext, input: SecBuffer[], output: SecBuffer[]): Promise<SpContextResult> {
    const token = tokenBytes(input);
    if (token === undefined || token.length === 0 || token.length > KERBEROS_MAX_TOKEN) return this.failClient(handle, context, SEC_E_INVALID_TOKEN);
    const reply = readApReply(token, context.request, context.sessionKey);
    wipeKey(context.sessionKey);
    if (isFailure(reply)) {
      // A ticket the service refused as expired or made with another key is not used again.
      if (reply.krbError === KRB_ERROR_CODE.KRB_AP_ERR_TKT_EXPIRED || reply.krbError === KRB_ERROR_CODE.KRB_AP_ERR_MODIFIED)
        context.identity.cache.dropService(context.ticket);
      return this.failClient(handle, context, reply.status);
    }
    const request = context.request;
    const protection = new MessageProtection({
      side: 'initiator',
      initiatorKey: request.subkey,
      acceptorKey: reply.acceptorSubkey,
      sendSeq: BigInt(request.sequence),
      window: new SequenceWindow(BigInt(reply.acceptorSequence ?? request.sequence), {
        replay: (context.gssFlags & GSS_C.REPLAY) !== 0,
        sequence: (context.gssFlags & GSS_C.SEQUENCE) !== 0,
      }),
    });
    // The protection holds the subkey from here (finishExchange wipes it, or keeps it while the peer's MIC is awaited).
    const complete = this.completeContext('client', context.ticket, context.attributes, context.created);
    return this.finishExchange(handle, complete, protection, context.gssFlags, input, output, false);
  }

  /**
   * The AP exchange is done on this side: under Negotiate's mechListMIC exchange, the peer's MIC (if
   * it came) checked and ours made; then the context completes (SEC_E_OK, MappedContext with its
   * ContextData) or, the peer's MIC still to come, waits for it (SEC_I_CONTINUE_NEEDED, mic-pending).
   * `fresh`: the handle is new on this call (NewContextHandle). A refused MIC fails the context.
   */
  private finishExchange(
    handle: LSA_SEC_HANDLE,
    complete: CompleteContext,
    protection: MessageProtection,
    gssFlags: number,
    input: SecBuffer[],
    output: SecBuffer[],
    fresh: boolean,
  ): SpContextResult {
    const handleField = fresh ? { NewContextHandle: handle } : {};
    const mic = mechListMic(protection, input, output, false);
    if (mic.status !== SEC_E_OK) {
      protection.wipe();
      if (complete.logonId !== undefined) this.lsa.functions.DeleteLogonSession(complete.logonId);
      if (fresh) return { status: mic.status };
      this.contexts.set(handle, { ...complete, logonId: undefined, stage: 'failed' });
      return { status: mic.status };
    }
    const expiry = timeStampFromDate(complete.expires);
    if (mic.pending) {
      this.contexts.set(handle, { ...complete, stage: 'mic-pending', micPending: { protection, gssFlags } });
      return { status: SEC_I_CONTINUE_NEEDED, ...handleField, ContextAttributes: complete.attributes, ExpirationTime: expiry };
    }
    this.contexts.set(handle, complete);
    const ContextData = this.contextData(complete.role === 'client' ? 'initiator' : 'acceptor', protection, gssFlags, complete);
    protection.wipe();
    return { status: SEC_E_OK, ...handleField, ContextAttributes: complete.attributes, ExpirationTime: expiry, MappedContext: true, ContextData };
  }

  /** The call that brings the peer's mechListMIC after this side's AP exchange and MIC: checked, the context completes. */
  private peerMicLeg(handle: LSA_SEC_HANDLE, context: CompleteContext, input: SecBuffer[]): SpContextResult {
    const pending = context.micPending!;
    const mechList = findBuffer(input, SECBUFFER.MECHLIST)?.pvBuffer;
    const peer = findBuffer(input, SECBUFFER.MECHLIST_SIGNATURE)?.pvBuffer;
    const token = tokenBytes(input);
    let status: Status = SEC_E_OK;
    if (mechList === undefined || peer === undefined || peer.length === 0 || (token !== undefined && token.length > 0)) status = SEC_E_INVALID_TOKEN;
    else status = checkedMic(pending.protection, mechList, peer);
    if (status !== SEC_E_OK) {
      pending.protection.wipe();
      if (context.logonId !== undefined) this.lsa.functions.DeleteLogonSession(context.logonId);
      this.contexts.set(handle, { ...context, logonId: undefined, stage: 'failed', micPending: undefined });
      return { status };
    }
    const complete: CompleteContext = { ...context, stage: 'complete', micPending: undefined };
    this.contexts.set(handle, complete);
    const ContextData = this.contextData(complete.role === 'client' ? 'initiator' : 'acceptor', pending.protection, pending.gssFlags, complete);
    pending.protection.wipe();
    return { status: SEC_E_OK, ContextAttributes: complete.attributes, ExpirationTime: timeStampFromDate(complete.expires), MappedContext: true, ContextData };
  }

  private failClient(handle: LSA_SEC_HANDLE, context: ClientContext, status: Status): SpContextResult {
    context.stage = 'failed';
    wipeKey(context.request.subkey);
    wipeKey(context.sessionKey);
    this.contexts.set(handle, { ...this.completeContext('client', context.ticket, context.attributes, context.created), stage: 'failed' });
    return { status };
  }

  // -------------------------------------------------------------------------------------------
  // The server's leg

  private async acceptLeg(credHandle: LSA_SEC_HANDLE | null, input: SecBuffer[], requirements: number, output: SecBuffer[]): Promise<SpContextResult> {
    const credential = credHandle === null ? undefined : this.credentials.get(credHandle);
    if (credential === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (!(credential.use & SECPKG_CRED.INBOUND)) return { status: SEC_E_NO_CREDENTIALS };
    if ((requirements & UNSUPPORTED_ASC_REQ) !== 0) return { status: SEC_E_UNSUPPORTED_FUNCTION };
    const token = tokenBytes(input);
    if (token === undefined || token.length === 0 || token.length > KERBEROS_MAX_TOKEN) return { status: SEC_E_INVALID_TOKEN };
    const now = this.now();
    const accepted = await acceptApRequest({
      token,
      serviceKeys: (server, etype, kvno) => this.serviceKeys!.lookup(server, etype, kvno),
      acceptFor: credential.acceptFor,
      now,
      maxClockSkewSeconds: this.settings.maxClockSkewSeconds,
      replayCache: this.replayCache,
      bindings: findBuffer(input, SECBUFFER.CHANNEL_BINDINGS)?.pvBuffer,
      allowMissingBindings: (requirements & ASC_REQ.ALLOW_MISSING_BINDINGS) !== 0,
    });
    if (isFailure(accepted)) {
      // ASC_REQ_EXTENDED_ERROR: the client is told why, in a KRB-ERROR token, as MIT's acceptor tells it.
      if ((requirements & ASC_REQ.EXTENDED_ERROR) !== 0 && accepted.krbError !== undefined) {
        const acceptor = credential.acceptFor ?? { name: { nameType: 0, nameString: ['unknown'] }, realm: this.settings.realm ?? '' };
        putToken(output, makeErrorToken(accepted.krbError, acceptor.name, acceptor.realm, now));
      }
      return { status: accepted.status };
    }
    return this.completeAccept(accepted, input, requirements, output, now);
  }

  private completeAccept(accepted: AcceptedApRequest, input: SecBuffer[], requirements: number, output: SecBuffer[], now: Date): SpContextResult {
    let acceptorKey: EncryptionKey | undefined;
    let sendSeq = accepted.initiatorSequence;
    if (accepted.mutual) {
      acceptorKey = makeRandomKey(accepted.initiatorKey.keytype);
      sendSeq = initialSequence();
      if (!putToken(output, makeApReply(accepted, acceptorKey, sendSeq))) {
        wipeKey(acceptorKey);
        return { status: SEC_E_BUFFER_TOO_SMALL };
      }
    }
    const protection = new MessageProtection({
      side: 'acceptor',
      initiatorKey: accepted.initiatorKey,
      acceptorKey,
      sendSeq: BigInt(sendSeq),
      window: new SequenceWindow(BigInt(accepted.initiatorSequence), {
        replay: (accepted.gssFlags & GSS_C.REPLAY) !== 0,
        sequence: (accepted.gssFlags & GSS_C.SEQUENCE) !== 0,
      }),
    });
    // The authenticated client gets a network logon session, as Windows creates one for its token.
    const logon = this.lsa.functions.CreateLogonSession(null);
    const attributes = serverAttributes(requirements, accepted.gssFlags, accepted.mutual);
    const complete: CompleteContext = {
      role: 'server',
      stage: 'complete',
      attributes,
      clientName: formatPrincipal(accepted.client.name, accepted.client.realm),
      serverName: formatPrincipal(accepted.server.name, accepted.server.realm),
      etype: protection.sendKey.keytype,
      expires: accepted.ticket.endtime,
      created: now,
      logonId: isSuccess(logon.status) ? logon.LogonId : undefined,
    };
    wipeKey(accepted.sessionKey);
    const handle = this.nextHandle++;
    const result = this.finishExchange(handle, complete, protection, accepted.gssFlags, input, output, true);
    if (!isSuccess(result.status)) putToken(output, new Uint8Array(0)); // a refused MIC: no AP-REP goes out
    return result;
  }

  // -------------------------------------------------------------------------------------------
  // Identities, tickets, contexts

  private newIdentity(user: string, domain: string, password: string): ClientIdentity {
    const display = domain === '' ? user : `${domain}\\${user}`;
    const realm = this.settings.realm;
    const principal = realm === undefined ? undefined : clientPrincipal(user, domain, realm);
    return { display, secret: principal === undefined ? undefined : newClientSecret(principal, password), cache: new TicketCache(), inUse: 0, released: false };
  }

  /** Runs `work` with the identity's secret and tickets kept until it ends, even if the identity is released meanwhile. */
  private async using<T>(identity: ClientIdentity, work: () => Promise<T>): Promise<T> {
    identity.inUse++;
    try {
      return await work();
    } finally {
      identity.inUse--;
      if (identity.released && identity.inUse === 0) this.forget(identity);
    }
  }

  /** Its credential was freed or its logon ended: wiped now, or when the last call using it ends. */
  private release(identity: ClientIdentity): void {
    identity.released = true;
    if (identity.inUse === 0) this.forget(identity);
  }

  private forget(identity: ClientIdentity): void {
    identity.cache.clear();
    if (identity.secret !== undefined) wipeClientSecret(identity.secret);
  }

  /** The identity's TGT: the cached one, or an AS exchange (one at a time per identity). */
  private tgtOf(identity: ClientIdentity, call: KdcCall): Promise<CachedTicket | KerberosFailure> {
    const secret = identity.secret!;
    return identity.cache.ticketGrantingTicket(this.now(), () => this.kdc!.asExchange(secret, call));
  }

  /** A service ticket for `server`: the cached one, or a TGS exchange with the TGT (once more with a new TGT when the KDC calls it expired or revoked). */
  private async serviceTicketOf(identity: ClientIdentity, server: Principal, call: KdcCall): Promise<CachedTicket | KerberosFailure> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const tgt = await this.tgtOf(identity, call);
      if (isFailure(tgt)) return tgt;
      const ticket = await identity.cache.serviceTicket(server, this.now(), () => this.kdc!.tgsExchange(tgt, server, call));
      if (!isFailure(ticket)) return ticket;
      const stale = ticket.krbError === KRB_ERROR_CODE.KRB_AP_ERR_TKT_EXPIRED || ticket.krbError === KRB_ERROR_CODE.KDC_ERR_TGT_REVOKED;
      if (!stale || attempt > 0) return ticket;
      identity.cache.dropTgt(tgt);
    }
    return failure(SEC_E_CONTEXT_EXPIRED, 'the TGT was refused twice');
  }

  private completeContext(role: 'client' | 'server', ticket: CachedTicket, attributes: number, created: Date): CompleteContext {
    return {
      role,
      stage: 'complete',
      attributes,
      clientName: formatPrincipal(ticket.client.name, ticket.client.realm),
      serverName: formatPrincipal(ticket.server.name, ticket.server.realm),
      etype: ticket.sessionKey.keytype,
      expires: ticket.endtime,
      created,
      logonId: undefined,
    };
  }

  private contextData(side: Side, protection: MessageProtection, gssFlags: number, complete: CompleteContext): Uint8Array {
    const window = protection.window.state();
    return packContextData({
      side,
      replayDetect: protection.window.replay,
      sequenceDetect: protection.window.sequence,
      gssFlags,
      attributes: complete.attributes,
      established: timeStampFromDate(complete.created),
      expires: timeStampFromDate(complete.expires),
      sendSeq: protection.nextSend,
      recvSeq: window.next,
      initiatorKey: protection.initiatorKey,
      acceptorKey: protection.acceptorKey,
      clientName: complete.clientName,
      serverName: complete.serverName,
    });
  }

  private now(): Date {
    return new Date(Date.now() + this.settings.clockOffsetSeconds * 1000);
  }
}

/** The 16-byte Bnd of the call's SECBUFFER_CHANNEL_BINDINGS (zeros without one), or why it is malformed. */
function bindingsHashOf(input: SecBuffer[]): Uint8Array | string {
  const bindings = findBuffer(input, SECBUFFER.CHANNEL_BINDINGS)?.pvBuffer;
  return bindings === undefined ? NO_BINDINGS : channelBindingsHash(bindings);
}

/**
 * Under Negotiate's mechListMIC exchange (SECBUFFER_MECHLIST given, RFC 4178 5): the peer's MIC
 * (SECBUFFER_MECHLIST_SIGNATURE in the input), when it came, checked, and ours made into the output's
 * SECBUFFER_MECHLIST_SIGNATURE. `pending`: the exchange is on and the peer's MIC is still to come.
 * Without SECBUFFER_MECHLIST there is no exchange: nothing is checked or made.
 */
function mechListMic(protection: MessageProtection, input: SecBuffer[], output: SecBuffer[], sent: boolean): { status: Status; pending: boolean } {
  const mechList = findBuffer(input, SECBUFFER.MECHLIST)?.pvBuffer;
  if (mechList === undefined) return { status: SEC_E_OK, pending: false };
  const peer = findBuffer(input, SECBUFFER.MECHLIST_SIGNATURE)?.pvBuffer;
  const received = peer !== undefined && peer.length > 0;
  if (received) {
    const checked = checkedMic(protection, mechList, peer);
    if (checked !== SEC_E_OK) return { status: checked, pending: false };
  }
  if (!sent) {
    const out = findBuffer(output, SECBUFFER.MECHLIST_SIGNATURE);
    if (out === undefined) return { status: SEC_E_BUFFER_TOO_SMALL, pending: false };
    out.pvBuffer = protection.makeMic([mechList]);
  }
  return { status: SEC_E_OK, pending: !received };
}

/** The peer's MIC token over the MechTypeList: SEC_E_OK, SEC_E_INVALID_TOKEN (not a MIC token), or SEC_E_MESSAGE_ALTERED. */
function checkedMic(protection: MessageProtection, mechList: Uint8Array, mic: Uint8Array): Status {
  const verified = protection.verifyMic([mechList], mic);
  return verified === SEC_E_OK || verified === SEC_E_INVALID_TOKEN ? verified : SEC_E_MESSAGE_ALTERED;
}

/** SECPKG_FUNCTION_TABLE of a fresh Kerberos package instance. */
export function createLsaModeTable(): SecpkgFunctionTable {
  const p = new KerberosLsaPackage();
  return {
    ...UNUSED_LSA_MEMBERS,
    CallPackage: p.LsaApCallPackage,
    LogonTerminated: p.LsaApLogonTerminated,
    CallPackageUntrusted: p.LsaApCallPackageUntrusted,
    Initialize: p.SpInitialize,
    Shutdown: p.SpShutdown,
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
