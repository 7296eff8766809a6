// Every fuzz generator, by name, in report order.

import { EXAMPLE_TOKEN_GENERATORS } from './example.js';
import type { GeneratorSpec } from './generator.js';
import { EXAMPLE_INITIALIZE_GENERATOR, NEGOTIATE_INITIALIZE_GENERATOR, NTLM_INITIALIZE_GENERATOR } from './initialize.js';
import { EXAMPLE_MESSAGE_GENERATORS, NEGOTIATE_MESSAGE_GENERATORS, NTLM_MESSAGE_GENERATORS } from './messages.js';
import { NEGOTIATE_TOKEN_GENERATORS } from './negotiate.js';
import { NTLM_TOKEN_GENERATORS } from './ntlm.js';

export type FuzzPackage = 'ntlm' | 'example' | 'negotiate';
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
];

const BY_NAME: ReadonlyMap<string, GeneratorSpec> = new Map(GENERATORS.map((g) => [g.name, g]));

export function generatorByName(name: string): GeneratorSpec | undefined {
  return BY_NAME.get(name);
}

/** The generators of a package for the chosen targets, optionally narrowed to some names. */
export function generatorsFor(packageKey: FuzzPackage, targets: readonly FuzzTarget[], only?: readonly string[]): GeneratorSpec[] {
  return GENERATORS.filter(
    (g) => g.packageKey === packageKey && targets.includes(g.target) && (only === undefined || only.length === 0 || only.includes(g.name)),
  );
}

/** The package's name as SSPI knows it. */
export const SSPI_PACKAGE_NAME: Readonly<Record<FuzzPackage, string>> = { ntlm: 'NTLM', example: 'Example', negotiate: 'Negotiate' };
