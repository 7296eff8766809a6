// What a scaffolded package may be called. The name is three things at once: its SecPkgInfo Name
// (what AcquireCredentialsHandle and --package find it by), its npm project's name (lower case)
// and, by default, its folder; so it is kept to what all three take without quoting.

import { BUILTIN_PACKAGES } from '../lsa/index.js';

/** A letter, then letters, digits, '-' or '_': at most 64 characters. */
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * Names a new package may not take (compared without case, as the LSA compares package names):
 * sspi-emu's built-in packages, which `run` and `check` load beside it (the LSA refuses a second
 * package of a name), and the packages Windows ships, which Negotiate and applications name.
 */
export const RESERVED_NAMES: readonly string[] = [
  ...BUILTIN_PACKAGES.keys(),
  'negotiate',
  'kerberos',
  'schannel',
  'wdigest',
  'digest',
  'credssp',
  'tsssp',
  'pku2u',
  'negoextender',
  'cloudap',
];

/** Why `name` cannot be a new package's name, or undefined when it can. */
export function packageNameProblem(name: string): string | undefined {
  if (!NAME_PATTERN.test(name))
    return `${JSON.stringify(name)} is not a package name: a letter, then letters, digits, - or _ (64 characters at most), as SecPkgInfo, npm and the file system all take it`;
  if (RESERVED_NAMES.includes(name.toLowerCase()))
    return `${name} is taken: sspi-emu's built-in packages (example, ntlm, null) and Windows' own (Negotiate, Kerberos, NTLM, Schannel, ...) keep their names`;
  return undefined;
}
