// The kit's `unsupported` stands for any member whose result carries a status, whether the header
// types it as a bare status or as an object with out-parameters; DEFAULT_LSA_MEMBERS and
// DEFAULT_USER_MEMBERS leave a package only the members that make it a package.

import type { SecpkgFunctionTable, SecpkgUserFunctionTable, SpGetInfoFn, SpInitializeFn } from '../../headers/ntsecpkg.js';
import { SEC_E_OK } from '../../headers/status.js';
import { DEFAULT_LSA_MEMBERS, DEFAULT_USER_MEMBERS, unsupported } from '../../packages/kit/index.js';

/** Every member of a table set to `unsupported`: compiles only if `unsupported` is assignable to each. */
type AllUnsupported<T> = { [K in keyof T]: typeof unsupported };
// LsaApLogonTerminated answers nothing (no status): the one member `unsupported` is not for.
declare const everyLsaMember: AllUnsupported<Omit<SecpkgFunctionTable, 'LogonTerminated'>>;
declare const everyUserMember: AllUnsupported<SecpkgUserFunctionTable>;
const lsaAllUnsupported: SecpkgFunctionTable = { ...everyLsaMember, LogonTerminated: () => undefined };
const userAllUnsupported: SecpkgUserFunctionTable = everyUserMember;

// Members by name, of each kind of result: a bare status, an object with out-parameters, a status or an object, nothing.
const byKind: Pick<SecpkgFunctionTable, 'ApplyControlToken' | 'QueryCredentialsAttributes' | 'AcceptLsaModeContext' | 'Shutdown' | 'GetExtendedInformation'> = {
  ApplyControlToken: unsupported,
  QueryCredentialsAttributes: unsupported,
  AcceptLsaModeContext: unsupported,
  Shutdown: unsupported,
  GetExtendedInformation: unsupported,
};
const userByKind: Pick<SecpkgUserFunctionTable, 'CompleteAuthToken' | 'VerifySignature' | 'ExportContext' | 'ImportContext'> = {
  CompleteAuthToken: unsupported,
  VerifySignature: unsupported,
  ExportContext: unsupported,
  ImportContext: unsupported,
};

// @ts-expect-error not for LsaApLogonTerminated, whose result is nothing (the defaults' is `() => undefined`)
const logonTerminated: SecpkgFunctionTable['LogonTerminated'] = unsupported;

// @ts-expect-error nor for a function whose result is something else (a string)
const notAStatus: () => string = unsupported;

// A package table: the defaults and the members that make a package.
declare const core: Pick<
  SecpkgFunctionTable,
  'Initialize' | 'GetInfo' | 'AcquireCredentialsHandle' | 'FreeCredentialsHandle' | 'InitLsaModeContext' | 'AcceptLsaModeContext' | 'DeleteContext'
>;
const minimalLsa: SecpkgFunctionTable = { ...DEFAULT_LSA_MEMBERS, ...core };
declare const userCore: Pick<
  SecpkgUserFunctionTable,
  | 'InstanceInit'
  | 'InitUserModeContext'
  | 'MakeSignature'
  | 'VerifySignature'
  | 'SealMessage'
  | 'UnsealMessage'
  | 'QueryContextAttributes'
  | 'DeleteUserModeContext'
>;
const minimalUser: SecpkgUserFunctionTable = { ...DEFAULT_USER_MEMBERS, ...userCore };

// @ts-expect-error the defaults do not make a package: AcceptLsaModeContext (and the rest of the core) is still the package's
const defaultsOnly: SecpkgFunctionTable = {
  ...DEFAULT_LSA_MEMBERS,
  Initialize: (() => SEC_E_OK) as SpInitializeFn,
  GetInfo: (() => ({ status: SEC_E_OK })) as SpGetInfoFn,
};

// @ts-expect-error nor do they make a user-mode half: SealMessage and the rest are the package's
const userDefaultsOnly: SecpkgUserFunctionTable = { ...DEFAULT_USER_MEMBERS };
