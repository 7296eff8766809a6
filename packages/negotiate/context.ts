// What Negotiate keeps per credential and per context in the LSA, shared by its two sides
// (initiator.ts, acceptor.ts) and the SSPI around them (lsa.ts).

import { type LSA_SEC_HANDLE, SECPKG_NEGOTIATION, type Status } from '../../headers/index.js';
import type { MechanismCredential } from './inner.js';
import type { NegotiateSettings } from './settings.js';

/**
 * A Negotiate credential: one credential of each mechanism that could acquire one. It lives while
 * its handle or any context made with it does (`refs`); the mechanisms' credentials go with it.
 */
export interface NegotiateCredential {
  readonly use: number;
  readonly mechanisms: readonly MechanismCredential[];
  refs: number;
  freed: boolean;
}

/** The mechanism a context settled on, and its context in the mechanism's package. */
export interface Selected {
  readonly mech: MechanismCredential;
  /** The OID the two sides name it by (the one in the initiator's list). */
  readonly oid: string;
  /** The mechanism's context handle (Negotiate's, through the LSA), once its first call made one. */
  handle: LSA_SEC_HANDLE | null;
  /** The mechanism answered SEC_E_OK. */
  done: boolean;
  /** Its ContextData, when it completed with MappedContext. */
  contextData?: Uint8Array;
  attributes: number;
  expiry: bigint;
}

export interface NegotiateContext {
  readonly role: 'client' | 'server';
  stage: 'negotiating' | 'complete' | 'failed';
  readonly credential: NegotiateCredential;
  readonly settings: NegotiateSettings;
  /**
   * ISC_REQ_* / ASC_REQ_* as the application gave them on its latest call: the mechanism gets
   * each call's own (ASC_REQ_ALLOW_MISSING_BINDINGS counts on the call that checks the bindings).
   */
  requirements: number;
  readonly targetName: string | null;
  /** A client that skipped SPNEGO: the mechanism's own tokens go in and out as they are (acceptor only). */
  raw: boolean;
  /** The initiator's mechanism list, most preferred first, and its DER as sent: what the mechListMIC covers. */
  mechTypes: string[];
  mechList: Uint8Array | undefined;
  /** The client's candidates, in the order offered. */
  offered: MechanismCredential[];
  selected: Selected | undefined;
  /** The acceptor's first reply (with supportedMech) went out (server) or came in (client). */
  replied: boolean;
  /** SPNEGO itself requires the mechListMIC exchange: the mechanism chosen was not the initiator's first, or the acceptor asked (request-mic). */
  micRequired: boolean;
  /** This side's mechanism made a mechListMIC that went out; the peer's was given to the mechanism and it accepted it. */
  micSent: boolean;
  micVerified: boolean;
  /** SECPKG_NEGOTIATION_* for SecPkgContext_NegotiationInfo while no mechanism's half is mapped. */
  negotiationState: number;
  readonly created: Date;
}

export function newContext(
  role: 'client' | 'server',
  credential: NegotiateCredential,
  settings: NegotiateSettings,
  requirements: number,
  targetName: string | null,
  now: Date,
): NegotiateContext {
  return {
    role,
    stage: 'negotiating',
    credential,
    settings,
    requirements,
    targetName,
    raw: false,
    mechTypes: [],
    mechList: undefined,
    offered: [],
    selected: undefined,
    replied: false,
    micRequired: false,
    micSent: false,
    micVerified: false,
    negotiationState: SECPKG_NEGOTIATION.IN_PROGRESS,
    created: now,
  };
}

/** What a leg hands the SSPI around it: the status and the token to send, if any. */
export interface LegResult {
  status: Status;
  token?: Uint8Array;
}
