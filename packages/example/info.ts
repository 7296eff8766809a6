// What the example package says about itself, to the LSA and to applications: its SecPkgInfo,
// its sizes, and the context attributes each side grants for what was asked.

import { ASC_REQ, ASC_RET, ISC_REQ, ISC_RET, SECPKG_FLAG, SECPKG_ID_NONE, type SecPkgInfo } from '../../headers/index.js';
import { HELLO_FLAGS, MAX_TOKEN_BYTES, PACKAGE_NAME, SIGNATURE_BYTES, TRAILER_BYTES } from './wire.js';

export const PACKAGE_INFO: SecPkgInfo = {
  fCapabilities:
    SECPKG_FLAG.INTEGRITY | SECPKG_FLAG.PRIVACY | SECPKG_FLAG.CONNECTION | SECPKG_FLAG.MULTI_REQUIRED | SECPKG_FLAG.MUTUAL_AUTH | SECPKG_FLAG.ACCEPT_WIN32_NAME,
  wVersion: 1,
  wRPCID: SECPKG_ID_NONE,
  cbMaxToken: MAX_TOKEN_BYTES,
  Name: PACKAGE_NAME,
  Comment: 'sspi-emu example package: three-leg mutual authentication',
};

/** SECPKG_ATTR_SIZES. */
export const SIZES = { cbMaxToken: MAX_TOKEN_BYTES, cbMaxSignature: SIGNATURE_BYTES, cbBlockSize: 0, cbSecurityTrailer: TRAILER_BYTES };

const SIGNING_REQ = ISC_REQ.INTEGRITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT;

/** What the client asks for in its ClientHello. */
export function helloFlags(req: number): number {
  return (req & ISC_REQ.CONFIDENTIALITY ? HELLO_FLAGS.WANTS_CONFIDENTIALITY : 0) | (req & SIGNING_REQ ? HELLO_FLAGS.WANTS_INTEGRITY : 0);
}

export function clientAttributes(req: number): number {
  let ret = ISC_RET.MUTUAL_AUTH | ISC_RET.CONNECTION; // this protocol is always mutual
  if (req & ISC_REQ.CONFIDENTIALITY) ret |= ISC_RET.CONFIDENTIALITY;
  if (req & ISC_REQ.INTEGRITY) ret |= ISC_RET.INTEGRITY;
  if (req & ISC_REQ.REPLAY_DETECT) ret |= ISC_RET.REPLAY_DETECT;
  if (req & ISC_REQ.SEQUENCE_DETECT) ret |= ISC_RET.SEQUENCE_DETECT;
  if (req & ISC_REQ.ALLOCATE_MEMORY) ret |= ISC_RET.ALLOCATED_MEMORY;
  return ret >>> 0;
}

/** The server grants what both sides asked for (the client's wishes arrive in ClientHello). */
export function serverAttributes(req: number, flags: number): number {
  let ret = ASC_RET.MUTUAL_AUTH | ASC_RET.CONNECTION;
  if (req & ASC_REQ.CONFIDENTIALITY && flags & HELLO_FLAGS.WANTS_CONFIDENTIALITY) ret |= ASC_RET.CONFIDENTIALITY;
  if (flags & HELLO_FLAGS.WANTS_INTEGRITY || req & (ASC_REQ.INTEGRITY | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT)) {
    if (req & ASC_REQ.INTEGRITY) ret |= ASC_RET.INTEGRITY;
    if (req & ASC_REQ.REPLAY_DETECT) ret |= ASC_RET.REPLAY_DETECT;
    if (req & ASC_REQ.SEQUENCE_DETECT) ret |= ASC_RET.SEQUENCE_DETECT;
  }
  if (req & ASC_REQ.ALLOCATE_MEMORY) ret |= ASC_RET.ALLOCATED_MEMORY;
  return ret >>> 0;
}
