// The checks of `sspi-emu check`, in the order they are reported: each one's name (stable: scripts
// and CI match on it) and why it matters to the applications that will call the package.

export const CHECKS = [
  {
    name: 'load',
    why: 'the LSA loads a package at boot (SpLsaModeInitialize, SpInitialize, SpGetInfo); a package that fails there does not exist for any application',
  },
  {
    name: 'info.name',
    why: 'applications find a package by its SecPkgInfo Name (AcquireCredentialsHandle, QuerySecurityPackageInfo), case-insensitively, and the LSA refuses a second package of the same name',
  },
  {
    name: 'info.fields',
    why: 'applications and Negotiate read SecPkgInfo before they call the package: wVersion is 1, wRPCID is SECPKG_ID_NONE or an id no other package uses, cbMaxToken sizes their token buffers, Comment says what it is',
  },
  {
    name: 'info.max-token',
    why: 'applications allocate cbMaxToken bytes for a token; a longer token does not fit (SEC_E_BUFFER_TOO_SMALL on Windows, a cut token on the wire)',
  },
  {
    name: 'info.mutual-auth',
    why: 'SECPKG_FLAG_MUTUAL_AUTH tells applications the server is authenticated too; it must agree with the ISC_RET_MUTUAL_AUTH the package grants when asked',
  },
  {
    name: 'info.multi-leg',
    why: 'SECPKG_FLAG_MULTI_REQUIRED says a handshake takes more than one token; applications that trust it keep the connection open for the next leg',
  },
  {
    name: 'info.integrity',
    why: 'SECPKG_FLAG_INTEGRITY says MakeSignature and VerifySignature work; applications and Negotiate pick packages by it',
  },
  {
    name: 'info.privacy',
    why: 'SECPKG_FLAG_PRIVACY says EncryptMessage and DecryptMessage work; applications and Negotiate pick packages by it',
  },
  {
    name: 'handshake.terminates',
    why: 'an application calls InitializeSecurityContext and AcceptSecurityContext until both answer SEC_E_OK; a package that keeps answering SEC_I_CONTINUE_NEEDED, or fails its own handshake, leaves every caller stuck or refused',
  },
  {
    name: 'handshake.mapped-context',
    why: "on the last leg the package returns MappedContext = TRUE with ContextData, and the LSA hands the context to the caller's process; without it the process has no user-mode context, and MakeSignature/EncryptMessage answer SEC_E_INVALID_HANDLE",
  },
  {
    name: 'user-mode.initialized',
    why: 'the first mapped context of a package in a process loads its user-mode half there (SpUserModeInitialize, SpInstanceInit, SpInitUserModeContext): the half that signs and seals',
  },
  {
    name: 'attributes.sizes',
    why: 'applications size signature and trailer buffers from QueryContextAttributes(SECPKG_ATTR_SIZES); sspi-emu run, serve --tcp, connect and the bench do',
  },
  {
    name: 'attributes.names',
    why: 'servers learn who authenticated from QueryContextAttributes(SECPKG_ATTR_NAMES); sspi-emu run and serve log it',
  },
  {
    name: 'sign.round-trip',
    why: 'a signature made by one side (MakeSignature into cbMaxSignature bytes) verifies on the other (VerifySignature SEC_E_OK), in both directions',
  },
  {
    name: 'sign.detects-alteration',
    why: 'a signature that verifies over altered data protects nothing: VerifySignature must answer SEC_E_MESSAGE_ALTERED',
  },
  {
    name: 'sign.detects-replay',
    why: 'a context that granted REPLAY_DETECT promises that a message verified once is refused the second time',
  },
  {
    name: 'sign.detects-reordering',
    why: 'a context that granted SEQUENCE_DETECT promises that a message verified out of order is refused',
  },
  {
    name: 'seal.round-trip',
    why: 'a message sealed by one side (EncryptMessage with a cbSecurityTrailer-byte trailer) unseals on the other to the same bytes, in both directions',
  },
  {
    name: 'seal.detects-alteration',
    why: 'a sealed message that unseals after it was altered protects nothing: DecryptMessage must answer SEC_E_MESSAGE_ALTERED',
  },
  {
    name: 'seal.detects-replay',
    why: 'a context that granted REPLAY_DETECT promises that a message unsealed once is refused the second time',
  },
  {
    name: 'seal.detects-reordering',
    why: 'a context that granted SEQUENCE_DETECT promises that a message unsealed out of order is refused',
  },
  {
    name: 'logon.wrong-password',
    why: 'a wrong password must be refused with SEC_E_LOGON_DENIED, the status applications and people recognise',
  },
  {
    name: 'logon.unknown-user',
    why: 'an account that does not exist is refused with SEC_E_LOGON_DENIED too: another answer tells anyone which accounts exist',
  },
  {
    name: 'handles.delete-twice',
    why: 'DeleteSecurityContext frees both halves (SpDeleteUserModeContext, SpDeleteContext); deleting a deleted context answers SEC_E_OK, and the deleted context signs nothing (SEC_E_INVALID_HANDLE)',
  },
  {
    name: 'handles.free-credentials',
    why: 'FreeCredentialsHandle reaches SpFreeCredentialsHandle; a freed credential answers SEC_E_INVALID_HANDLE afterwards, to a second free and to InitializeSecurityContext',
  },
  {
    name: 'lsa.baseline',
    why: 'once every context is deleted and every credential freed, the LSA holds what it held before (credentials, contexts, logon sessions) and the processes hold no handles: a package that leaks does so in every process, for the life of the machine',
  },
  {
    name: 'secrets.channels',
    why: "long-term secrets live in the LSA: the account's password may cross only from the client into the LSA (its explicit credentials), never into a process and never between processes, in any encoding",
  },
  {
    name: 'statuses.documented',
    why: 'applications act on the statuses each SSPI function documents; an undocumented one is handled by nobody',
  },
  {
    name: 'package.exceptions',
    why: 'an entry point that throws, rejects or does not answer in time reaches applications as SEC_E_INTERNAL_ERROR; on Windows lsass disables such a package',
  },
  {
    name: 'apps.default',
    why: 'sspi-emu run drives a package through the default client and server applications: a handshake, SECPKG_ATTR_NAMES and SIZES, sealed and signed messages both ways',
  },
] as const;

export type CheckName = (typeof CHECKS)[number]['name'];

export const CHECK_NAMES: readonly CheckName[] = CHECKS.map((c) => c.name);

const WHY = new Map<string, string>(CHECKS.map((c) => [c.name, c.why]));

export function whyOf(name: CheckName): string {
  return WHY.get(name)!;
}
