// The Negotiate package's LSA-mode half (SECPKG_FUNCTION_TABLE). It holds no secret and checks
// no password: it finds the mechanisms of mechanisms.ts among the loaded packages (LookupPackage),
// drives the one it selects through the LSA (LocatePackageById: inner.ts), and speaks SPNEGO
// around it (initiator.ts, acceptor.ts).
//
// - A Negotiate credential is one credential of each mechanism that could acquire one (the
//   mechanism reads explicit credentials from the caller's memory itself, in the same call).
// - A Negotiate context owns its mechanism's context (and a reference to its credential); both go
//   with it, through the LSA. Handles one package holds of another are the LSA's to check: the
//   LSA releases those of a process that dies whatever the package does.
// - When the context completes, the mechanism's context is the one mapped into the application's
//   process (SpContextResult.MappedPackage): the user-mode half there is the mechanism's own, and
//   SECPKG_ATTR_NEGOTIATION_INFO and SECPKG_ATTR_PACKAGE_INFO answer with the mechanism. The
//   application's handle still names Negotiate.

import {
  type LSA_SEC_HANDLE,
  type PackageId,
  type SecpkgFunctionTable,
  type SpContextResult,
  SECBUFFER,
  SECPKG_ATTR,
  SECPKG_FLAG,
  SECPKG_NEGOTIATION,
  type SecBuffer,
  SEC_E_BUFFER_TOO_SMALL,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_OK,
  SEC_E_SECPKG_NOT_FOUND,
  SEC_E_UNSUPPORTED_FUNCTION,
  STATUS_SUCCESS,
  TIMESTAMP_NEVER,
  findBuffer,
  isSuccess,
  type Status,
  timeStampFromDate,
} from '../../headers/index.js';
import { HandleMap, LsaBinding, putToken, tokenBytes, UNUSED_LSA_MEMBERS } from '../kit/index.js';
import { accept, continueAccept, offer } from './acceptor.js';
import { newContext, type LegResult, type NegotiateContext, type NegotiateCredential } from './context.js';
import { packageInfo, SIZES, NEGOTIATE_MAX_TOKEN } from './info.js';
import type { MechanismCredential } from './inner.js';
import { continueInitiate, initiate, type CallInput } from './initiator.js';
import { MECHANISMS } from './mechanisms.js';
import { DEFAULT_NEGOTIATE_SETTINGS, parseNegotiateSettings, type NegotiateSettings } from './settings.js';

/** One instance per SpLsaModeInitialize: the package's whole LSA-side state. */
class NegotiateLsaPackage {
  private readonly lsa = new LsaBinding('Negotiate');
  /** Not Maps: one per handshake comes and goes (the kit's HandleMap, ipc/handle-map.ts). */
  private readonly credentials = new HandleMap<NegotiateCredential>();
  private readonly contexts = new HandleMap<NegotiateContext>();
  private nextHandle = 1;
  private settings: NegotiateSettings = DEFAULT_NEGOTIATE_SETTINGS;

  /** SpInitialize: the settings (a bad one throws NegotiateSettingsError, which the LSA reports naming it). */
  readonly SpInitialize: SecpkgFunctionTable['Initialize'] = (id, parameters, functionTable) => {
    this.settings = parseNegotiateSettings(parameters.PackageSettings);
    this.lsa.bind(id, functionTable);
    return STATUS_SUCCESS;
  };

  readonly SpGetInfo: SecpkgFunctionTable['GetInfo'] = () => ({ status: STATUS_SUCCESS, PackageInfo: packageInfo() });

  /**
   * A credential of every mechanism that is loaded, negotiable and can acquire one for this caller,
   * in preference order. None: the first mechanism's refusal (SEC_E_SECPKG_NOT_FOUND when no
   * mechanism is loaded at all).
   */
  readonly SpAcquireCredentialsHandle: SecpkgFunctionTable['AcquireCredentialsHandle'] = async (principal, use, logonId, authData) => {
    const mechanisms: MechanismCredential[] = [];
    let refused: Status | undefined;
    for (const mechanism of MECHANISMS) {
      const found = this.lsa.functions.LookupPackage(mechanism.packageName);
      if (!isSuccess(found.status) || found.PackageId === undefined || found.PackageInfo === undefined) continue;
      if ((found.PackageInfo.fCapabilities & SECPKG_FLAG.NEGOTIABLE) === 0) continue;
      const table = this.lsa.functions.LocatePackageById(found.PackageId);
      if (table === null) continue;
      const acquired = await table.AcquireCredentialsHandle(principal, use, logonId, authData, null, null);
      if (!isSuccess(acquired.status) || typeof acquired.CredentialHandle !== 'number') {
        refused ??= acquired.status;
        continue;
      }
      mechanisms.push({ mechanism, packageId: found.PackageId as PackageId, info: found.PackageInfo, table, handle: acquired.CredentialHandle });
    }
    if (mechanisms.length === 0) return { status: refused ?? SEC_E_SECPKG_NOT_FOUND };
    const handle = this.nextHandle++;
    this.credentials.set(handle, { use, mechanisms, refs: 1, freed: false });
    return { status: SEC_E_OK, CredentialHandle: handle, ExpirationTime: TIMESTAMP_NEVER };
  };

  /** The first mechanism's answer (SECPKG_CRED_ATTR_NAMES: who the credential is). */
  readonly SpQueryCredentialsAttributes: SecpkgFunctionTable['QueryCredentialsAttributes'] = (handle, attribute) => {
    const credential = this.credentials.get(handle);
    if (credential === undefined || credential.freed) return { status: SEC_E_INVALID_HANDLE };
    const first = credential.mechanisms[0]!;
    return first.table.QueryCredentialsAttributes(first.handle, attribute);
  };

  readonly SpFreeCredentialsHandle: SecpkgFunctionTable['FreeCredentialsHandle'] = async (handle) => {
    const credential = this.credentials.get(handle);
    if (credential === undefined || credential.freed) return SEC_E_INVALID_HANDLE;
    credential.freed = true;
    this.credentials.delete(handle);
    await this.release(credential);
    return SEC_E_OK;
  };

  /** InitializeSecurityContext: the NegTokenInit without a context, each NegTokenResp with one. */
  readonly SpInitLsaModeContext: SecpkgFunctionTable['InitLsaModeContext'] = async (
    credHandle,
    ctxHandle,
    targetName,
    requirements,
    dataRep,
    input,
    output,
  ) => {
    const call = callInput(dataRep, input ?? []);
    const token = tokenOf(input ?? []);
    if (ctxHandle === null) {
      const credential = credHandle === null ? undefined : this.credentials.get(credHandle);
      if (credential === undefined || credential.freed) return { status: SEC_E_INVALID_HANDLE };
      if (token === 'too large') return { status: SEC_E_INVALID_TOKEN };
      const context = this.newContext('client', credential, requirements, targetName);
      return this.leg(null, context, await initiate(context, token, call), output);
    }
    const context = this.contexts.get(ctxHandle);
    if (context?.role !== 'client' || context.stage !== 'negotiating') return { status: SEC_E_INVALID_HANDLE };
    context.requirements = requirements;
    if (token === 'too large') return this.leg(ctxHandle, context, { status: SEC_E_INVALID_TOKEN }, output);
    return this.leg(ctxHandle, context, await continueInitiate(context, token, call), output);
  };

  /** AcceptSecurityContext: no input token first is the server's NegTokenInit2; then the client's tokens. */
  readonly SpAcceptLsaModeContext: SecpkgFunctionTable['AcceptLsaModeContext'] = async (credHandle, ctxHandle, input, requirements, dataRep, output) => {
    const call = callInput(dataRep, input);
    const token = tokenOf(input);
    if (ctxHandle === null) {
      const credential = credHandle === null ? undefined : this.credentials.get(credHandle);
      if (credential === undefined || credential.freed) return { status: SEC_E_INVALID_HANDLE };
      if (token === 'too large') return { status: SEC_E_INVALID_TOKEN };
      const context = this.newContext('server', credential, requirements, null);
      return this.leg(null, context, token === undefined ? offer(context) : await accept(context, token, call), output);
    }
    const context = this.contexts.get(ctxHandle);
    if (context?.role !== 'server' || context.stage !== 'negotiating') return { status: SEC_E_INVALID_HANDLE };
    context.requirements = requirements;
    if (token === undefined || token === 'too large') return this.leg(ctxHandle, context, { status: SEC_E_INVALID_TOKEN }, output);
    return this.leg(ctxHandle, context, await continueAccept(context, token, call), output);
  };

  /** The context, its mechanism's context (through the LSA) and its hold on the credential. */
  readonly SpDeleteContext: SecpkgFunctionTable['DeleteContext'] = async (handle) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    this.contexts.delete(handle);
    const selected = context.selected;
    if (selected?.handle != null) await selected.mech.table.DeleteContext(selected.handle);
    selected?.contextData?.fill(0);
    await this.release(context.credential);
    return SEC_E_OK;
  };

  /**
   * QueryContextAttributes in the LSA (before the mechanism's half is mapped): what is being
   * negotiated, and what the mechanism answers once one is chosen; Negotiate's own before that.
   */
  readonly SpQueryContextAttributes: SecpkgFunctionTable['QueryContextAttributes'] = (handle, attribute) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return { status: SEC_E_INVALID_HANDLE };
    const selected = context.selected;
    const info = selected === undefined ? packageInfo() : { ...selected.mech.info };
    switch (attribute) {
      case SECPKG_ATTR.NEGOTIATION_INFO:
        return {
          status: SEC_E_OK,
          Buffer: { PackageInfo: info, NegotiationState: context.stage === 'complete' ? SECPKG_NEGOTIATION.COMPLETE : context.negotiationState },
        };
      case SECPKG_ATTR.PACKAGE_INFO:
        return { status: SEC_E_OK, Buffer: { PackageInfo: info } };
      case SECPKG_ATTR.LIFESPAN:
        return { status: SEC_E_OK, Buffer: { tsStart: timeStampFromDate(context.created), tsExpiry: TIMESTAMP_NEVER } };
      default:
        if (selected?.handle != null) return selected.mech.table.QueryContextAttributes(selected.handle, attribute);
        if (attribute === SECPKG_ATTR.SIZES) return { status: SEC_E_OK, Buffer: { ...SIZES } };
        return { status: SEC_E_UNSUPPORTED_FUNCTION };
    }
  };

  private newContext(role: 'client' | 'server', credential: NegotiateCredential, requirements: number, targetName: string | null): NegotiateContext {
    credential.refs++;
    return newContext(role, credential, this.settings, requirements, targetName, new Date());
  }

  /**
   * A leg's outcome as SpInitLsaModeContext/SpAcceptLsaModeContext answer it: the token into the
   * output, a new context kept only when the leg succeeded, and on completion the mechanism's
   * context mapped into the process.
   */
  private async leg(handle: LSA_SEC_HANDLE | null, context: NegotiateContext, outcome: LegResult, output: SecBuffer[]): Promise<SpContextResult> {
    if (outcome.token !== undefined && outcome.token.length > NEGOTIATE_MAX_TOKEN) outcome = { status: SEC_E_INVALID_TOKEN };
    if (outcome.token !== undefined && !putToken(output, outcome.token)) outcome = { status: SEC_E_BUFFER_TOO_SMALL };
    if (!isSuccess(outcome.status)) {
      context.stage = 'failed';
      // A failed first call leaves nothing behind; a later failure leaves the context to be deleted.
      if (handle === null) await this.discard(context);
      return { status: outcome.status };
    }
    if (handle === null) {
      handle = this.nextHandle++;
      this.contexts.set(handle, context);
    }
    const selected = context.selected;
    const result: SpContextResult = {
      status: outcome.status,
      NewContextHandle: handle,
      ContextAttributes: selected?.attributes ?? 0,
      ExpirationTime: selected?.expiry || TIMESTAMP_NEVER,
    };
    if (outcome.status === SEC_E_OK && selected?.contextData !== undefined && selected.handle !== null) {
      result.MappedContext = true;
      result.ContextData = selected.contextData;
      result.MappedPackage = { PackageId: selected.mech.packageId, ContextHandle: selected.handle };
      selected.contextData = undefined; // it crosses to the process; Negotiate keeps no copy
    }
    // A complete context keeps what it answers for and what it frees, not the negotiation.
    if (outcome.status === SEC_E_OK) {
      context.mechTypes = [];
      context.mechList = undefined;
      context.offered = [];
    }
    return result;
  }

  /** A context that never got a handle: its mechanism's context and its hold on the credential go. */
  private async discard(context: NegotiateContext): Promise<void> {
    const selected = context.selected;
    if (selected?.handle != null) await selected.mech.table.DeleteContext(selected.handle);
    selected?.contextData?.fill(0);
    await this.release(context.credential);
  }

  /** One hold on a credential less; the last takes the mechanisms' credentials with it. */
  private async release(credential: NegotiateCredential): Promise<void> {
    if (--credential.refs > 0) return;
    for (const m of credential.mechanisms) await m.table.FreeCredentialsHandle(m.handle);
  }
}

/** The call's token; none for an empty one. One past cbMaxToken is refused before it is read or kept. */
function tokenOf(buffers: SecBuffer[]): Uint8Array | undefined | 'too large' {
  const token = tokenBytes(buffers);
  if (token !== undefined && token.length > NEGOTIATE_MAX_TOKEN) return 'too large';
  return token === undefined || token.length === 0 ? undefined : token;
}

function callInput(dataRep: number, input: SecBuffer[]): CallInput {
  const bindings = findBuffer(input, SECBUFFER.CHANNEL_BINDINGS)?.pvBuffer;
  return { dataRep, bindings };
}

/** SECPKG_FUNCTION_TABLE of a fresh Negotiate instance. */
export function createLsaModeTable(): SecpkgFunctionTable {
  const p = new NegotiateLsaPackage();
  return {
    ...UNUSED_LSA_MEMBERS,
    LogonTerminated: () => undefined,
    Initialize: p.SpInitialize,
    Shutdown: () => STATUS_SUCCESS,
    GetInfo: p.SpGetInfo,
    AcceptCredentials: () => STATUS_SUCCESS, // Negotiate keeps nothing per logon: its mechanisms do
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
