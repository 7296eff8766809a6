// What a package says about itself (SecPkgInfo from SpGetInfo), judged without running it.

import { SECPKG_ID_NONE } from '../headers/index.js';
import type { PackageReport } from '../lsa/index.js';

export type LoadedInfo = PackageReport['loaded'][number];

/** The longest package name the check calls sane (Schannel's, the longest Windows ships, has 44). */
export const MAX_NAME_LENGTH = 256;
/** The largest cbMaxToken the check calls sane (Kerberos's 48,000 and Negotiate's 48,256 fit). */
export const MAX_TOKEN_LIMIT = 1 << 20;

/**
 * Why a SecPkgInfo Name is not one applications can use, or [] when it is: non-empty and at most
 * MAX_NAME_LENGTH characters, no control characters, no spaces at either end (Windows compares
 * names exactly but for case), and no comma or leading "!": Negotiate's package lists
 * (SEC_WINNT_AUTH_IDENTITY_EX PackageList, "Kerberos,!NTLM") separate and exclude names with them.
 */
export function nameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length === 0) problems.push('it is empty');
  if (name.length > MAX_NAME_LENGTH) problems.push(`it has ${name.length} characters (at most ${MAX_NAME_LENGTH})`);
  if (/[\u0000-\u001f\u007f]/.test(name)) problems.push('it has control characters');
  if (name.trim() !== name) problems.push('it starts or ends with white space');
  if (name.includes(',')) problems.push('it has a comma (Negotiate package lists separate names with commas)');
  if (name.startsWith('!')) problems.push('it starts with "!" (Negotiate package lists exclude a package with it)');
  return problems;
}

/** Why the other SecPkgInfo fields are off, or [] when they are sane; `others` are the rest of the LSA's packages. */
export function fieldProblems(info: LoadedInfo, others: readonly LoadedInfo[]): string[] {
  const problems: string[] = [];
  if (info.wVersion !== 1) problems.push(`wVersion is ${info.wVersion} (the documentation says 1)`);
  if (!Number.isInteger(info.wRPCID) || info.wRPCID < 0 || info.wRPCID > 0xffff) problems.push(`wRPCID ${info.wRPCID} is not a USHORT`);
  else if (info.wRPCID !== SECPKG_ID_NONE) {
    const clash = others.find((o) => o.wRPCID === info.wRPCID);
    if (clash !== undefined) problems.push(`wRPCID ${info.wRPCID} is ${clash.name}'s too (use SECPKG_ID_NONE, 0xFFFF, without a DCE RPC id of your own)`);
  }
  if (!Number.isInteger(info.cbMaxToken) || info.cbMaxToken <= 0 || info.cbMaxToken > MAX_TOKEN_LIMIT)
    problems.push(`cbMaxToken ${info.cbMaxToken} is not a size from 1 to ${MAX_TOKEN_LIMIT}`);
  if (!Number.isInteger(info.fCapabilities) || info.fCapabilities < 0 || info.fCapabilities > 0xffffffff)
    problems.push(`fCapabilities ${info.fCapabilities} is not a ULONG`);
  if (typeof info.comment !== 'string' || info.comment.trim().length === 0) problems.push('Comment is empty');
  return problems;
}
