// How Negotiate calls the mechanism it selected: through the LSA (LocatePackageById gives the
// mechanism's LSA-mode table, each call crossing the LSA, traced as the mechanism's own entry
// point "for Negotiate"), never by importing the mechanism's module.
//
// Every context call under SPNEGO gives the mechanism the same buffers, with the types sspi.h
// defines for this:
//   input:  SECBUFFER_TOKEN (the peer's mechanism token, when there is one),
//           SECBUFFER_MECHLIST (the initiator's DER MechTypeList, exactly as sent),
//           SECBUFFER_MECHLIST_SIGNATURE (the peer's mechListMIC, when this message has one),
//           SECBUFFER_CHANNEL_BINDINGS (the application's, when it gave them);
//   output: SECBUFFER_TOKEN (the mechanism's next token), SECBUFFER_MECHLIST_SIGNATURE (its mechListMIC).
// The mechanism answers SEC_I_CONTINUE_NEEDED while it needs anything more from the peer (a token
// or the peer's mechListMIC) and SEC_E_OK, with its ContextData, when it is done. A mechanism that
// answers SEC_E_OK to a call that gave it the peer's mechListMIC has checked it (a wrong one is
// SEC_E_MESSAGE_ALTERED); given on a call it continues from, the MIC is not counted as checked. A
// raw context (a client that skipped SPNEGO) gets the token and the bindings alone.

import {
  type LSA_SEC_HANDLE,
  type PackageId,
  SECBUFFER,
  type SecBuffer,
  type SecpkgFunctionTable,
  type SecPkgInfo,
  type SpContextResult,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  findBuffer,
  type Status,
} from '../../headers/index.js';
import type { Mechanism } from './mechanisms.js';

/** A mechanism Negotiate may use, with the credential it acquired of it. */
export interface MechanismCredential {
  readonly mechanism: Mechanism;
  readonly packageId: PackageId;
  readonly info: SecPkgInfo;
  /** The mechanism's LSA-mode table, through the LSA. */
  readonly table: SecpkgFunctionTable;
  /** Its credential handle, Negotiate's (the LSA knows it as Negotiate's). */
  readonly handle: LSA_SEC_HANDLE;
}

/** What one call of the mechanism gave. */
export interface InnerStep {
  status: Status;
  /** The mechanism's next token, when it has one (not empty). */
  token?: Uint8Array;
  /** The mechanism's mechListMIC, when it made one. */
  mic?: Uint8Array;
  result: SpContextResult;
}

/** What goes into one call. */
export interface InnerInput {
  token?: Uint8Array;
  /** Absent for a raw context. */
  mechList?: Uint8Array;
  peerMic?: Uint8Array;
  bindings?: Uint8Array;
}

function inputBuffers(input: InnerInput): SecBuffer[] {
  const buffers: SecBuffer[] = [];
  if (input.token !== undefined) buffers.push({ BufferType: SECBUFFER.TOKEN, pvBuffer: input.token });
  if (input.mechList !== undefined) buffers.push({ BufferType: SECBUFFER.MECHLIST, pvBuffer: input.mechList });
  if (input.peerMic !== undefined) buffers.push({ BufferType: SECBUFFER.MECHLIST_SIGNATURE, pvBuffer: input.peerMic });
  if (input.bindings !== undefined) buffers.push({ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: input.bindings });
  return buffers;
}

function outputBuffers(): SecBuffer[] {
  return [
    { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(0) },
    { BufferType: SECBUFFER.MECHLIST_SIGNATURE, pvBuffer: new Uint8Array(0) },
  ];
}

function step(result: SpContextResult, output: SecBuffer[]): InnerStep {
  const out: InnerStep = { status: result.status >>> 0, result };
  if (out.status !== SEC_E_OK && out.status !== SEC_I_CONTINUE_NEEDED) return out;
  const token = findBuffer(output, SECBUFFER.TOKEN)?.pvBuffer;
  const mic = findBuffer(output, SECBUFFER.MECHLIST_SIGNATURE)?.pvBuffer;
  if (token instanceof Uint8Array && token.length > 0) out.token = token;
  if (mic instanceof Uint8Array && mic.length > 0) out.mic = mic;
  return out;
}

/** InitializeSecurityContext of the mechanism: its first call (context null) or a later one. */
export async function initInner(
  mech: MechanismCredential,
  context: LSA_SEC_HANDLE | null,
  targetName: string | null,
  requirements: number,
  dataRep: number,
  input: InnerInput,
): Promise<InnerStep> {
  const output = outputBuffers();
  const result = await mech.table.InitLsaModeContext(
    context === null ? mech.handle : null,
    context,
    targetName,
    requirements,
    dataRep,
    inputBuffers(input),
    output,
  );
  return step(result, output);
}

/** AcceptSecurityContext of the mechanism. */
export async function acceptInner(
  mech: MechanismCredential,
  context: LSA_SEC_HANDLE | null,
  requirements: number,
  dataRep: number,
  input: InnerInput,
): Promise<InnerStep> {
  const output = outputBuffers();
  const result = await mech.table.AcceptLsaModeContext(context === null ? mech.handle : null, context, inputBuffers(input), requirements, dataRep, output);
  return step(result, output);
}
