// A package is its tables: one missing a member of SECPKG_FUNCTION_TABLE or
// SECPKG_USER_FUNCTION_TABLE, or with a member of the wrong shape, does not compile.

import type { SecpkgFunctionTable, SecpkgUserFunctionTable, SpLsaModeInitializeResult } from '../../headers/ntsecpkg.js';
import { SEC_E_OK } from '../../headers/status.js';

declare const lsaTable: SecpkgFunctionTable;
declare const userTable: SecpkgUserFunctionTable;

const { InitLsaModeContext, ...lsaWithoutInit } = lsaTable;
const { SealMessage, ...userWithoutSeal } = userTable;

// The whole tables compile: the errors below come from the one member each lacks.
const lsaComplete: SecpkgFunctionTable = { ...lsaWithoutInit, InitLsaModeContext };
const userComplete: SecpkgUserFunctionTable = { ...userWithoutSeal, SealMessage };

// @ts-expect-error a SECPKG_FUNCTION_TABLE without InitLsaModeContext is not a package table
const lsaMissingInit: SecpkgFunctionTable = lsaWithoutInit;

// @ts-expect-error a SECPKG_USER_FUNCTION_TABLE without SealMessage is not a user-mode table
const userMissingSeal: SecpkgUserFunctionTable = userWithoutSeal;

// @ts-expect-error nor can a table without it be returned from SpLsaModeInitialize
const initResult: SpLsaModeInitializeResult = { status: SEC_E_OK, PackageVersion: 1, ppTables: [lsaWithoutInit] };

const lsaWrongShape: SecpkgFunctionTable = {
  ...lsaWithoutInit,
  // @ts-expect-error InitLsaModeContext answers a result object with a status, not a bare status
  InitLsaModeContext: () => 'SEC_E_OK',
};

const userWrongShape: SecpkgUserFunctionTable = {
  ...userWithoutSeal,
  // @ts-expect-error SealMessage takes the context handle first, a number, not the message buffers
  SealMessage: (buffers: string[]) => SEC_E_OK,
};

const userWrongExport: SecpkgUserFunctionTable = {
  ...userTable,
  // @ts-expect-error SpExportSecurityContext answers its PackedContext as bytes, not text
  ExportContext: () => ({ status: SEC_E_OK, PackedContext: 'the state' }),
};

const userWrongImport: SecpkgUserFunctionTable = {
  ...userTable,
  // @ts-expect-error SpImportSecurityContext answers the new context's handle as a number
  ImportContext: () => ({ status: SEC_E_OK, ContextHandle: 'h' }),
};

// A package that cannot export answers a bare status, as the kit's UNUSED_USER_MEMBERS does.
const userCannotExport: SecpkgUserFunctionTable = { ...userTable, ExportContext: () => SEC_E_OK, ImportContext: () => SEC_E_OK };
