// Every fuzz generator, by name, in report order: the structure-aware ones of each built-in
// package, and the generic ones, which take any package (fuzz/generic.ts, and the initialize and
// message generators, which were never a package's own).

import { EXAMPLE_TOKEN_GENERATORS } from './example.js';
import { GENERIC_TOKEN_GENERATORS } from './generic.js';
import type { GeneratorSpec } from './generator.js';
import { EXAMPLE_INITIALIZE_GENERATOR, GENERIC_INITIALIZE_GENERATOR, NEGOTIATE_INITIALIZE_GENERATOR, NTLM_INITIALIZE_GENERATOR } from './initialize.js';
import {
  EXAMPLE_MESSAGE_GENERATORS,
  GENERIC_MESSAGE_GENERATORS,
  KERBEROS_MESSAGE_GENERATORS,
  NEGOTIATE_MESSAGE_GENERATORS,
  NTLM_MESSAGE_GENERATORS,
} from './messages.js';
import { KERBEROS_RFC4121_GENERATORS, KERBEROS_TOKEN_GENERATORS } from './kerberos.js';
import { KDC_REPLY_GENERATOR } from './kerberos-kdc-reply.js';
import { NEGOTIATE_TOKEN_GENERATORS } from './negotiate.js';
import { NTLM_TOKEN_GENERATORS } from './ntlm.js';

/** The built-in packages that have generators of their own. */
export type FuzzPackage = 'ntlm' | 'example' | 'negotiate' | 'kerberos';
/** A set of generators: a built-in package's own, or the generic ones. */
export type GeneratorSet = FuzzPackage | 'generic';
export type FuzzTarget = 'tokens' | 'messages';

export const GENERATORS: readonly GeneratorSpec[] = [
  ...NTLM_TOKEN_GENERATORS,
  NTLM_INITIALIZE_GENERATOR,
  ...NTLM_MESSAGE_GENERATORS,
  ...EXAMPLE_TOKEN_GENERATORS,
  EXAMPLE_INITIALIZE_GENERATOR,
  ...EXAMPLE_MESSAGE_GENERATORS,
  ...NEGOTIATE_TOKEN_GENERATORS,
  NEGOTIATE_INITIALIZE_GENERATOR,
  ...NEGOTIATE_MESSAGE_GENERATORS,
  ...KERBEROS_TOKEN_GENERATORS,
  KDC_REPLY_GENERATOR,
  ...KERBEROS_RFC4121_GENERATORS,
  ...KERBEROS_MESSAGE_GENERATORS,
  ...GENERIC_TOKEN_GENERATORS,
  GENERIC_INITIALIZE_GENERATOR,
  ...GENERIC_MESSAGE_GENERATORS,
];

const BY_NAME: ReadonlyMap<string, GeneratorSpec> = new Map(GENERATORS.map((g) => [g.name, g]));

export function generatorByName(name: string): GeneratorSpec | undefined {
  return BY_NAME.get(name);
}

/** The generators of a set for the chosen targets, optionally narrowed to some names. */
export function generatorsFor(set: GeneratorSet, targets: readonly FuzzTarget[], only?: readonly string[]): GeneratorSpec[] {
  return GENERATORS.filter((g) => g.packageKey === set && targets.includes(g.target) && (only === undefined || only.length === 0 || only.includes(g.name)));
}

/** The package's name as SSPI knows it. */
export const SSPI_PACKAGE_NAME: Readonly<Record<FuzzPackage, string>> = { ntlm: 'NTLM', example: 'Example', negotiate: 'Negotiate', kerberos: 'Kerberos' };
