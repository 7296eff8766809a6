// Negotiate's acceptor (RFC 4178 3.2, MS-SPNG 3.2.5): AcceptSecurityContext's legs.
//
// - No input token on the first call: the server speaks first (MS-SPNG 3.2.5.2), with a
//   NegTokenInit2 listing its mechanisms and Windows' hint name; the client's NegTokenInit follows.
// - The client's NegTokenInit: the first mechanism in the client's list that this server has is
//   chosen (the initiator's preference, RFC 4178 3.2). When it is the client's first and a mechToken
//   came, that optimistic token goes to the mechanism; otherwise the reply names the mechanism
//   alone, and asks for the mechListMIC (request-mic) when it is not the client's first.
// - Each reply is a NegTokenResp: negState, supportedMech in the first one, the mechanism's
//   token, its mechListMIC. accept-completed when the mechanism is done. Kerberos under a required
//   mechListMIC finishes on the client's MIC, after our AP-REP and MIC went: that call completes
//   with no token (the client completed when it sent its MIC).
// - A raw token of a known mechanism (a client that skipped SPNEGO, as MS-SPNG allows for NTLM):
//   the context is that mechanism's, tokens in and out as they are.
// - A failure answers the status; with ASC_REQ_EXTENDED_ERROR the reply is a NegTokenResp reject.

import { ASC_REQ, SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, SEC_E_OK, SEC_I_CONTINUE_NEEDED, isSuccess, type Status } from '../../headers/index.js';
import type { LegResult, NegotiateContext } from './context.js';
import { DerError } from '../kit/index.js';
import { acceptInner, type InnerStep } from './inner.js';
import { bindingsOf, mechListFor, record, sameBytes, select, withoutEmptyToken, type CallInput } from './initiator.js';
import { NEG_STATE, packNegTokenInit, packNegTokenResp, unpackNegotiationToken, WINDOWS_HINT_NAME, type NegTokenInit, type NegTokenResp } from './spnego.js';

function fail(context: NegotiateContext, status: Status): LegResult {
  context.stage = 'failed';
  // ASC_REQ_EXTENDED_ERROR: the client is told, with SPNEGO's reject.
  if (context.raw || (context.requirements & ASC_REQ.EXTENDED_ERROR) === 0) return { status };
  return { status, token: packNegTokenResp({ negState: NEG_STATE.REJECT }) };
}

/** The server's NegTokenInit2: its mechanisms and the hint name, with no token (MS-SPNG 3.2.5.2). */
export function offer(context: NegotiateContext): LegResult {
  const mechTypes = context.credential.mechanisms.flatMap((m) => [...m.mechanism.oids]);
  return { status: SEC_I_CONTINUE_NEEDED, token: packNegTokenInit({ mechTypes, negHints: { hintName: WINDOWS_HINT_NAME } }) };
}

/** The client's first token: a NegTokenInit, or a raw mechanism token. */
export async function accept(context: NegotiateContext, token: Uint8Array, call: CallInput): Promise<LegResult> {
  const raw = context.credential.mechanisms.find((m) => m.mechanism.isRawToken(token));
  if (raw !== undefined) {
    context.raw = true;
    context.selected = select(raw, raw.mechanism.oids[0]!);
    return rawStep(context, token, call);
  }
  const parsed = parse(token);
  if (parsed?.kind !== 'NegTokenInit' || parsed.mechTypes === undefined || parsed.mechTypes.length === 0) return fail(context, SEC_E_INVALID_TOKEN);
  return chooseMechanism(context, parsed, call);
}

/** A later token: the client's NegTokenResp (or, after the server's NegTokenInit2, its NegTokenInit or a raw token). */
export async function continueAccept(context: NegotiateContext, token: Uint8Array, call: CallInput): Promise<LegResult> {
  if (context.raw) return rawStep(context, token, call);
  if (context.selected === undefined) return accept(context, token, call);
  const parsed = parse(token);
  if (parsed?.kind !== 'NegTokenResp') return fail(context, SEC_E_INVALID_TOKEN);
  const resp = withoutEmptyToken(parsed);
  if (resp.negState === NEG_STATE.REJECT) return fail(context, SEC_E_LOGON_DENIED);
  const peerMic =
    resp.mechListMIC !== undefined && resp.responseToken !== undefined && sameBytes(resp.mechListMIC, resp.responseToken) ? undefined : resp.mechListMIC;
  if (context.selected.done || (resp.responseToken === undefined && peerMic === undefined)) return fail(context, SEC_E_INVALID_TOKEN);
  return mechanismStep(context, resp.responseToken, peerMic, call);
}

async function chooseMechanism(context: NegotiateContext, init: NegTokenInit, call: CallInput): Promise<LegResult> {
  const mechTypes = init.mechTypes!;
  context.mechTypes = mechTypes;
  context.mechList = init.mechTypeList;
  const index = mechTypes.findIndex((oid) => context.credential.mechanisms.some((m) => m.mechanism.oids.includes(oid)));
  if (index < 0) return fail(context, SEC_E_INVALID_TOKEN);
  const oid = mechTypes[index]!;
  context.selected = select(
    context.credential.mechanisms.find((m) => m.mechanism.oids.includes(oid))!,
    oid,
  );
  context.micRequired = index !== 0;
  if (index === 0 && init.mechToken !== undefined) return mechanismStep(context, init.mechToken, init.mechListMIC, call);
  // No token for the chosen mechanism yet: name it, and ask for the MIC when it was not the client's first.
  context.replied = true;
  return {
    status: SEC_I_CONTINUE_NEEDED,
    token: packNegTokenResp({ negState: context.micRequired ? NEG_STATE.REQUEST_MIC : NEG_STATE.ACCEPT_INCOMPLETE, supportedMech: oid }),
  };
}

/** One call of the chosen mechanism, and the NegTokenResp that answers it. */
async function mechanismStep(context: NegotiateContext, token: Uint8Array | undefined, peerMic: Uint8Array | undefined, call: CallInput): Promise<LegResult> {
  const selected = context.selected!;
  const step: InnerStep = await acceptInner(selected.mech, selected.handle, context.requirements, call.dataRep, {
    ...(token === undefined ? {} : { token }),
    ...mechListFor(context, peerMic),
    ...(peerMic === undefined ? {} : { peerMic }),
    ...bindingsOf(call),
  });
  if (!isSuccess(step.status)) return fail(context, step.status);
  record(context, selected, step, peerMic);
  const first = !context.replied;
  context.replied = true;
  const fields = {
    ...(first ? { supportedMech: selected.oid } : {}),
    ...(step.token === undefined ? {} : { responseToken: step.token }),
    ...(step.mic === undefined ? {} : { mechListMIC: step.mic }),
  };
  if (!selected.done) {
    const negState = first && context.micRequired ? NEG_STATE.REQUEST_MIC : NEG_STATE.ACCEPT_INCOMPLETE;
    return { status: SEC_I_CONTINUE_NEEDED, token: packNegTokenResp({ negState, ...fields }) };
  }
  // Done: where SPNEGO requires the MIC, the client's must have been checked and ours must have gone.
  if (context.micRequired && !(context.micVerified && context.micSent)) return fail(context, SEC_E_INVALID_TOKEN);
  context.stage = 'complete';
  // The client's MIC was its last token (Kerberos: our AP-REP and MIC went before it) and it is complete: nothing to answer, as MIT's acceptor answers nothing.
  if (!first && step.token === undefined && step.mic === undefined && context.micVerified) return { status: SEC_E_OK };
  return { status: SEC_E_OK, token: packNegTokenResp({ negState: NEG_STATE.ACCEPT_COMPLETED, ...fields }) };
}

/** A context of a client that skipped SPNEGO: the mechanism's tokens as they are. */
async function rawStep(context: NegotiateContext, token: Uint8Array, call: CallInput): Promise<LegResult> {
  const selected = context.selected!;
  if (selected.done) return fail(context, SEC_E_INVALID_TOKEN);
  const step = await acceptInner(selected.mech, selected.handle, context.requirements, call.dataRep, { token, ...bindingsOf(call) });
  if (!isSuccess(step.status)) return fail(context, step.status);
  record(context, selected, step, undefined);
  if (selected.done) context.stage = 'complete';
  const status = selected.done ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
  return step.token === undefined ? { status } : { status, token: step.token };
}

function parse(token: Uint8Array): NegTokenInit | NegTokenResp | undefined {
  try {
    return unpackNegotiationToken(token).token;
  } catch (error) {
    if (error instanceof DerError) return undefined;
    throw error;
  }
}
