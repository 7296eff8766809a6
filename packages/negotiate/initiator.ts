// Negotiate's initiator (RFC 4178 3.2, MS-SPNG 3.1.5): InitializeSecurityContext's legs.
//
//   client                                                server
//   first:  NegTokenInit { mechTypes, mechToken (the optimistic token of the first) } -->
//   next:   <-- NegTokenResp { negState, supportedMech (first reply), responseToken, mechListMIC }
//           NegTokenResp { responseToken, mechListMIC } --> (no negState, as Windows and Samba send)
//           ... until the mechanism is done and the acceptor said accept-completed.
//
// The first call may carry the acceptor's NegTokenInit2 (a protocol that starts with the server,
// MS-SPNG 3.2.5.2): its mechanism list is a hint, which narrows what is offered when it names any
// of ours. A mechanism that cannot make its first token (no credentials for it; Kerberos without a
// realm, a KDC, or a service ticket for the target) is left out of the list, and the next one is
// tried: that is the fallback to NTLM, which the setting allowNtlmFallback false forbids (then the
// call answers what Kerberos answered). When the acceptor picks a mechanism other than the
// optimistic one (or the same package under another of its OIDs), that one's context is deleted,
// the chosen one starts from its first call, and the mechListMIC becomes required (RFC 4178 5); so
// it is when the acceptor answers request-mic. Once the mechanism is done and the MICs have gone
// both ways, the context is complete even before the acceptor's accept-completed: the initiator's
// own MIC is then its last token, and the acceptor (MIT's, ours) answers it with nothing.

import {
  ISC_REQ,
  SEC_E_INVALID_TOKEN,
  SEC_E_NO_AUTHENTICATING_AUTHORITY,
  SEC_E_LOGON_DENIED,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  SECPKG_NEGOTIATION,
  isSuccess,
  type Status,
} from '../../headers/index.js';
import type { LegResult, NegotiateContext, Selected } from './context.js';
import { DerError } from '../kit/index.js';
import { initInner, type InnerStep, type MechanismCredential } from './inner.js';
import { NEG_STATE, packMechTypeList, packNegTokenInit, packNegTokenResp, unpackNegotiationToken, type NegTokenResp } from './spnego.js';

/** What a call brings besides its token. */
export interface CallInput {
  dataRep: number;
  /** The application's SECBUFFER_CHANNEL_BINDINGS, passed to the mechanism. */
  bindings: Uint8Array | undefined;
}

/** Negotiate asks the mechanism for integrity, so that its mechListMIC is a real signature (Windows' NTLM always offers SIGN). */
function innerRequirements(context: NegotiateContext): number {
  return (context.requirements | ISC_REQ.INTEGRITY) >>> 0;
}

function fail(context: NegotiateContext, status: Status): LegResult {
  context.stage = 'failed';
  return { status };
}

/** The first call: the mechanism list and the first candidate's optimistic token, in a NegTokenInit. */
export async function initiate(context: NegotiateContext, token: Uint8Array | undefined, call: CallInput): Promise<LegResult> {
  let candidates = context.credential.mechanisms.filter((m) => context.settings.allowNtlmFallback || !m.mechanism.isFallback);
  if (token !== undefined && token.length > 0) {
    const hint = acceptorHint(token);
    if (hint === undefined) return fail(context, SEC_E_INVALID_TOKEN);
    const named = candidates.filter((m) => m.mechanism.oids.some((oid) => hint.includes(oid)));
    if (named.length > 0) candidates = named;
  }
  // Nothing to try (Kerberos alone allowed, and not loaded or without a credential): no authority to ask.
  let status: Status = SEC_E_NO_AUTHENTICATING_AUTHORITY;
  for (let i = 0; i < candidates.length; i++) {
    const offered = candidates.slice(i);
    const mechTypes = offered.flatMap((m) => [...m.mechanism.oids]);
    const mechList = packMechTypeList(mechTypes);
    const mech = candidates[i]!;
    const step = await initInner(mech, null, context.targetName, innerRequirements(context), call.dataRep, {
      ...(mech.mechanism.mechListMic === 'always' ? { mechList } : {}),
      ...bindingsOf(call),
    });
    if (!isSuccess(step.status)) {
      // This one cannot start (no credentials, no route): offer the others without it.
      status = step.status;
      continue;
    }
    context.offered = offered;
    context.mechTypes = mechTypes;
    context.mechList = mechList;
    context.selected = select(mech, mech.mechanism.oids[0]!);
    record(context, context.selected, step, undefined);
    context.negotiationState = SECPKG_NEGOTIATION.OPTIMISTIC;
    const init = packNegTokenInit({
      mechTypes,
      ...(step.token === undefined ? {} : { mechToken: step.token }),
      ...(step.mic === undefined ? {} : { mechListMIC: step.mic }),
    });
    return { status: SEC_I_CONTINUE_NEEDED, token: init };
  }
  return fail(context, status);
}

/** A later call: the acceptor's NegTokenResp. */
export async function continueInitiate(context: NegotiateContext, token: Uint8Array | undefined, call: CallInput): Promise<LegResult> {
  const resp = negTokenResp(token);
  if (resp === undefined) return fail(context, SEC_E_INVALID_TOKEN);
  if (resp.negState === NEG_STATE.REJECT) return fail(context, SEC_E_LOGON_DENIED);
  // MS-SPNG: old acceptors put the response token in mechListMIC too; that is no MIC.
  const peerMic =
    resp.mechListMIC !== undefined && resp.responseToken !== undefined && sameBytes(resp.mechListMIC, resp.responseToken) ? undefined : resp.mechListMIC;

  if (!context.replied) {
    const chosen = await choose(context, resp);
    if (chosen !== undefined) return fail(context, chosen);
  } else if (resp.supportedMech !== undefined && resp.supportedMech !== context.selected!.oid) {
    return fail(context, SEC_E_INVALID_TOKEN); // only the first reply names the mechanism (RFC 4178 4.2.2)
  }
  const selected = context.selected!;
  const acceptorDone = resp.negState === NEG_STATE.ACCEPT_COMPLETED;

  if (selected.done) {
    // The mechanism finished on an earlier call; all that may come is the acceptor's word that it did too.
    if (resp.responseToken !== undefined || peerMic !== undefined || !acceptorDone) return fail(context, SEC_E_INVALID_TOKEN);
    return finish(context, undefined);
  }
  if (selected.handle !== null && resp.responseToken === undefined && peerMic === undefined) return fail(context, SEC_E_INVALID_TOKEN);
  const step = await initInner(selected.mech, selected.handle, context.targetName, innerRequirements(context), call.dataRep, {
    ...(resp.responseToken === undefined ? {} : { token: resp.responseToken }),
    ...mechListFor(context, peerMic),
    ...(peerMic === undefined ? {} : { peerMic }),
    ...bindingsOf(call),
  });
  if (!isSuccess(step.status)) return fail(context, step.status);
  record(context, selected, step, peerMic);
  const out =
    step.token !== undefined || step.mic !== undefined
      ? packNegTokenResp({ ...(step.token === undefined ? {} : { responseToken: step.token }), ...(step.mic === undefined ? {} : { mechListMIC: step.mic }) })
      : undefined;
  // Done when the acceptor says so, or when the mechanism is, the acceptor's MIC checked and ours made on this call: ours is the last token.
  if (selected.done && (acceptorDone || (step.mic !== undefined && context.micVerified))) return finish(context, out);
  // The acceptor is done but the mechanism is not, or the mechanism goes on with nothing to send: the exchange cannot go on.
  if (acceptorDone || out === undefined) return fail(context, SEC_E_INVALID_TOKEN);
  return { status: SEC_I_CONTINUE_NEEDED, token: out };
}

/**
 * The acceptor's first reply: the mechanism it chose (supportedMech, or the optimistic one when it
 * names none), and whether it asks for the mechListMIC. Undefined, or the status that ends it.
 */
async function choose(context: NegotiateContext, resp: NegTokenResp): Promise<Status | undefined> {
  context.replied = true;
  context.negotiationState = SECPKG_NEGOTIATION.IN_PROGRESS;
  const current = context.selected!;
  const oid = resp.supportedMech ?? current.oid;
  if (!context.mechTypes.includes(oid)) return SEC_E_INVALID_TOKEN;
  const mech = context.offered.find((m) => m.mechanism.oids.includes(oid))!;
  if (oid !== current.oid) {
    // Not the optimistic mechanism (another package, or Kerberos under its other OID): the optimistic
    // token was not used, so its context goes, the chosen one starts afresh, and the MIC is required.
    if (current.handle !== null) await current.mech.table.DeleteContext(current.handle);
    context.selected = select(mech, oid);
    context.micRequired = true;
  }
  if (resp.negState === NEG_STATE.REQUEST_MIC) context.micRequired = true;
  return undefined;
}

/** The context completes: the mechanism is done and, where SPNEGO requires it, the MICs went both ways. */
function finish(context: NegotiateContext, token: Uint8Array | undefined): LegResult {
  if (context.micRequired && !(context.micSent && context.micVerified)) return fail(context, SEC_E_INVALID_TOKEN);
  context.stage = 'complete';
  return token === undefined ? { status: SEC_E_OK } : { status: SEC_E_OK, token };
}

export function select(mech: MechanismCredential, oid: string): Selected {
  return { mech, oid, handle: null, done: false, attributes: 0, expiry: 0n };
}

/** What a successful call of the mechanism tells the context. */
export function record(context: NegotiateContext, selected: Selected, step: InnerStep, peerMic: Uint8Array | undefined): void {
  const result = step.result;
  if (selected.handle === null && typeof result.NewContextHandle === 'number') selected.handle = result.NewContextHandle;
  selected.attributes = (result.ContextAttributes ?? selected.attributes) >>> 0;
  if (typeof result.ExpirationTime === 'bigint') selected.expiry = result.ExpirationTime;
  if (step.mic !== undefined) context.micSent = true;
  // A mechanism that completes on a call that gave it the peer's mechListMIC has checked it (inner.ts).
  if (peerMic !== undefined && step.status === SEC_E_OK) context.micVerified = true;
  if (step.status === SEC_E_OK) {
    selected.done = true;
    if (result.MappedContext === true && result.ContextData instanceof Uint8Array) selected.contextData = result.ContextData;
  }
}

/**
 * SECBUFFER_MECHLIST for the mechanism's call when it is to take part in the mechListMIC exchange:
 * always for NTLM; for Kerberos when SPNEGO requires the exchange or the peer's MIC came.
 */
export function mechListFor(context: NegotiateContext, peerMic: Uint8Array | undefined): { mechList?: Uint8Array } {
  const mech = context.selected!.mech.mechanism;
  const wanted = mech.mechListMic === 'always' || context.micRequired || peerMic !== undefined;
  return wanted && context.mechList !== undefined ? { mechList: context.mechList } : {};
}

export function bindingsOf(call: CallInput): { bindings?: Uint8Array } {
  return call.bindings === undefined ? {} : { bindings: call.bindings };
}

/** The acceptor's NegTokenInit(2) mechanism list, or undefined when the token is not one. */
function acceptorHint(token: Uint8Array): string[] | undefined {
  try {
    const { token: parsed } = unpackNegotiationToken(token);
    return parsed.kind === 'NegTokenInit' ? (parsed.mechTypes ?? []) : undefined;
  } catch (error) {
    if (error instanceof DerError) return undefined;
    throw error;
  }
}

function negTokenResp(token: Uint8Array | undefined): NegTokenResp | undefined {
  if (token === undefined || token.length === 0) return undefined;
  try {
    const { token: parsed } = unpackNegotiationToken(token);
    return parsed.kind === 'NegTokenResp' ? withoutEmptyToken(parsed) : undefined;
  } catch (error) {
    if (error instanceof DerError) return undefined;
    throw error;
  }
}

/** An empty responseToken is no token: the mechanism gets nothing rather than zero bytes. */
export function withoutEmptyToken(resp: NegTokenResp): NegTokenResp {
  if (resp.responseToken === undefined || resp.responseToken.length > 0) return resp;
  const { responseToken: _empty, ...rest } = resp;
  return rest;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
