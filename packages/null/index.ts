// The null package: three legs that do no cryptography at all, so that a benchmark of it measures
// the framework alone (LPC, dispatch, handle tables, MappedContext delivery, user-mode
// initialization), not a protocol. It is not a security package: anyone is accepted, and its
// "signatures" and "seals" protect nothing. It exists for `sspi-emu bench`.
//
//   leg 1  client -> server  "NUL1"   leg 2  server -> client  "NUL2"   leg 3  client -> server  "NUL3"

import {
  SECPKG_INTERFACE_VERSION,
  type SecpkgFunctionTable,
  type SecpkgUserFunctionTable,
  type SpLsaModeInitializeFn,
  type SpUserModeInitializeFn,
  SECPKG_ATTR,
  SECPKG_FLAG,
  SECPKG_ID_NONE,
  TIMESTAMP_NEVER,
  type SecBuffer,
  type SecPkgInfo,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_OK,
  SEC_E_OUT_OF_SEQUENCE,
  SEC_E_UNSUPPORTED_FUNCTION,
  SEC_I_CONTINUE_NEEDED,
  STATUS_SUCCESS,
  findToken,
  tokenBytes,
} from '../../headers/index.js';
import { HandleMap, UNUSED_LSA_MEMBERS, UNUSED_USER_MEMBERS } from '../kit/index.js';

const INFO: SecPkgInfo = {
  fCapabilities: SECPKG_FLAG.INTEGRITY | SECPKG_FLAG.PRIVACY | SECPKG_FLAG.CONNECTION | SECPKG_FLAG.MULTI_REQUIRED,
  wVersion: 1,
  wRPCID: SECPKG_ID_NONE,
  cbMaxToken: 16,
  Name: 'Null',
  Comment: 'sspi-emu null package: three legs, no cryptography (benchmarks only)',
};
const SIZES = { cbMaxToken: 16, cbMaxSignature: 8, cbBlockSize: 0, cbSecurityTrailer: 8 };
const LEG = [0, 'NUL1', 'NUL2', 'NUL3'].map((s) => (typeof s === 'string' ? new TextEncoder().encode(s) : new Uint8Array(0)));

const tokenIs = (input: SecBuffer[] | null, leg: number): boolean => {
  const t = tokenBytes(input);
  return t !== undefined && t.byteLength === 4 && t[3] === LEG[leg]![3];
};
const put = (output: SecBuffer[], leg: number): void => {
  const b = findToken(output);
  if (b !== undefined) b.pvBuffer = LEG[leg]!;
};

let next = 1;
const contexts = new HandleMap<number>(); // handle -> legs done

const lsa: SecpkgFunctionTable = {
  ...UNUSED_LSA_MEMBERS,
  LogonTerminated: () => undefined,
  Initialize: () => STATUS_SUCCESS,
  Shutdown: () => STATUS_SUCCESS,
  GetInfo: () => ({ status: STATUS_SUCCESS, PackageInfo: INFO }),
  AcceptCredentials: () => STATUS_SUCCESS,
  AcquireCredentialsHandle: () => ({ status: SEC_E_OK, CredentialHandle: 1, ExpirationTime: TIMESTAMP_NEVER }),
  QueryCredentialsAttributes: () => ({ status: SEC_E_UNSUPPORTED_FUNCTION }),
  FreeCredentialsHandle: () => SEC_E_OK,
  InitLsaModeContext: (_cred, ctx, _target, _req, _drep, input, output) => {
    if (ctx === null) {
      const h = next++;
      contexts.set(h, 1);
      put(output, 1);
      return { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: h };
    }
    if (contexts.get(ctx) !== 1) return { status: SEC_E_INVALID_HANDLE };
    if (!tokenIs(input, 2)) return { status: SEC_E_INVALID_TOKEN };
    contexts.set(ctx, 3);
    put(output, 3);
    return { status: SEC_E_OK, NewContextHandle: ctx, MappedContext: true, ContextData: Uint8Array.of(1) };
  },
  AcceptLsaModeContext: (_cred, ctx, input, _req, _drep, output) => {
    if (ctx === null) {
      if (!tokenIs(input, 1)) return { status: SEC_E_INVALID_TOKEN };
      const h = next++;
      contexts.set(h, 2);
      put(output, 2);
      return { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: h };
    }
    if (contexts.get(ctx) !== 2) return { status: SEC_E_INVALID_HANDLE };
    if (!tokenIs(input, 3)) return { status: SEC_E_INVALID_TOKEN };
    contexts.set(ctx, 3);
    return { status: SEC_E_OK, NewContextHandle: ctx, MappedContext: true, ContextData: Uint8Array.of(2) };
  },
  DeleteContext: (h) => (contexts.delete(h) ? SEC_E_OK : SEC_E_INVALID_HANDLE),
  ApplyControlToken: () => SEC_E_UNSUPPORTED_FUNCTION,
  GetExtendedInformation: () => ({ status: SEC_E_UNSUPPORTED_FUNCTION }),
  QueryContextAttributes: (h, a) =>
    !contexts.has(h)
      ? { status: SEC_E_INVALID_HANDLE }
      : a === SECPKG_ATTR.SIZES
        ? { status: SEC_E_OK, Buffer: SIZES }
        : { status: SEC_E_UNSUPPORTED_FUNCTION },
};

/** User mode: a sequence number per direction in an 8-byte "signature"; the data is left as it is. */
const seqs = new HandleMap<{ send: number; receive: number }>();
function stamp(h: number, buffers: SecBuffer[]): number {
  const s = seqs.get(h);
  if (s === undefined) return SEC_E_INVALID_HANDLE;
  const token = findToken(buffers);
  if (token === undefined) return SEC_E_INVALID_TOKEN;
  token.pvBuffer = new Uint8Array(8);
  new DataView(token.pvBuffer.buffer).setUint32(4, s.send++, true);
  return SEC_E_OK;
}
function check(h: number, buffers: SecBuffer[]): { status: number } {
  const s = seqs.get(h);
  if (s === undefined) return { status: SEC_E_INVALID_HANDLE };
  const token = tokenBytes(buffers);
  if (token === undefined || token.byteLength !== 8) return { status: SEC_E_INVALID_TOKEN };
  const seq = new DataView(token.buffer, token.byteOffset, 8).getUint32(4, true);
  if (seq !== s.receive) return { status: SEC_E_OUT_OF_SEQUENCE };
  s.receive++;
  return { status: SEC_E_OK };
}

const user: SecpkgUserFunctionTable = {
  ...UNUSED_USER_MEMBERS,
  InstanceInit: () => STATUS_SUCCESS,
  InitUserModeContext: (h) => {
    seqs.set(h, { send: 0, receive: 0 });
    return STATUS_SUCCESS;
  },
  MakeSignature: (h, _q, buffers) => stamp(h, buffers),
  VerifySignature: (h, buffers) => check(h, buffers),
  SealMessage: (h, _q, buffers) => stamp(h, buffers),
  UnsealMessage: (h, buffers) => check(h, buffers),
  QueryContextAttributes: (h, a) =>
    !seqs.has(h) ? { status: SEC_E_INVALID_HANDLE } : a === SECPKG_ATTR.SIZES ? { status: SEC_E_OK, Buffer: SIZES } : { status: SEC_E_UNSUPPORTED_FUNCTION },
  CompleteAuthToken: () => SEC_E_UNSUPPORTED_FUNCTION,
  DeleteUserModeContext: (h) => (seqs.delete(h) ? SEC_E_OK : SEC_E_INVALID_HANDLE),
};

export const SpLsaModeInitialize: SpLsaModeInitializeFn = () => ({ status: STATUS_SUCCESS, PackageVersion: SECPKG_INTERFACE_VERSION, ppTables: [lsa] });
export const SpUserModeInitialize: SpUserModeInitializeFn = () => ({ status: STATUS_SUCCESS, PackageVersion: SECPKG_INTERFACE_VERSION, ppTables: [user] });
