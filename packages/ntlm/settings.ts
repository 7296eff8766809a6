// The NTLM package's settings: what Windows keeps under HKLM\SYSTEM\CurrentControlSet\Control\Lsa
// (LmCompatibilityLevel) and in the Extended Protection policy, given here by the LSA
// configuration's entry "ntlm" as SECPKG_PARAMETERS.PackageSettings.
//
//   lmCompatibilityLevel   0..5, default 5. Level 5 is "send NTLMv2 only, refuse LM and NTLM".
//                          This package speaks NTLMv2 only: NTLMv1 needs DES, which is not
//                          implemented (crypto.ts), so the initiator always sends NTLMv2 and the
//                          acceptor refuses NTLMv1 and LM responses (SEC_E_LOGON_DENIED) at every
//                          level. Levels 0..4 are accepted and change nothing; they exist so that a
//                          configuration written for Windows loads.
//   requireChannelBindings false by default: the server application decides (Extended Protection
//                          as HTTP.sys and .NET apply it): with a SECBUFFER_CHANNEL_BINDINGS and
//                          ASC_REQ_ALLOW_MISSING_BINDINGS a client without bindings passes
//                          ("Allowed"), without the flag it is refused ("Required"), without the
//                          buffer nothing is checked ("None"). When true, the acceptor refuses an
//                          AUTHENTICATE_MESSAGE whose MsvAvChannelBindings is missing, zero, or not
//                          the hash of the server's SECBUFFER_CHANNEL_BINDINGS whatever the flag,
//                          and every client of an application that passes no bindings. Either way,
//                          a non-zero hash that does not match the server's bindings is refused
//                          (SEC_E_BAD_BINDINGS).
//   maxClockSkewSeconds    how far the NTLMv2 response's timestamp may be from the server's clock;
//                          0 turns the check off. Default 129600 (36 hours), the MaxLifetime that
//                          [MS-NLMP] gives for a challenge/response pair on Windows as remembered
//                          here; the search tool found no page to confirm it. A response outside it
//                          is SEC_E_TIME_SKEW, SSPI's "clocks are skewed"; which status Windows' own
//                          check returns could not be confirmed either.
//
// For tests only (never set them in a real configuration: they make the challenge predictable):
//   fixedServerChallenge   16 hex digits: the CHALLENGE_MESSAGE's ServerChallenge, so that the
//                          MS-NLMP 4.2.4 AUTHENTICATE_MESSAGE (challenge 0123456789abcdef) verifies.
//   fixedTime              an ISO date: the clock of the CHALLENGE timestamp and the skew check.
//
// An unknown key or a value of the wrong type makes SpInitialize throw, so the LSA's load
// diagnostic names the setting (a typo must not silently leave the default in force).

import { EmuError } from '../kit/index.js';

/** LmCompatibilityLevel values (0..5). */
export type LmCompatibilityLevel = 0 | 1 | 2 | 3 | 4 | 5;

export interface NtlmSettings {
  readonly lmCompatibilityLevel: LmCompatibilityLevel;
  readonly requireChannelBindings: boolean;
  readonly maxClockSkewSeconds: number;
  readonly fixedServerChallenge: Uint8Array | undefined;
  readonly fixedTime: Date | undefined;
}

export const DEFAULT_SETTINGS: NtlmSettings = Object.freeze({
  lmCompatibilityLevel: 5,
  requireChannelBindings: false,
  maxClockSkewSeconds: 36 * 60 * 60,
  fixedServerChallenge: undefined,
  fixedTime: undefined,
});

/** A package setting that cannot be used; its message names the setting. */
export class NtlmSettingsError extends EmuError<'BAD_SETTING'> {
  override readonly name = 'NtlmSettingsError';
  constructor(message: string) {
    super('BAD_SETTING', message);
  }
}

const KNOWN_KEYS: ReadonlySet<string> = new Set(['lmCompatibilityLevel', 'requireChannelBindings', 'maxClockSkewSeconds', 'fixedServerChallenge', 'fixedTime']);

/** Reads PackageSettings; throws NtlmSettingsError for an unknown key or a bad value. */
export function parseSettings(raw: Readonly<Record<string, unknown>>): NtlmSettings {
  for (const key of Object.keys(raw)) {
    if (!KNOWN_KEYS.has(key)) throw new NtlmSettingsError(`unknown NTLM setting ${JSON.stringify(key)} (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  return {
    lmCompatibilityLevel: lmCompatibilityLevel(raw.lmCompatibilityLevel),
    requireChannelBindings: boolean('requireChannelBindings', raw.requireChannelBindings, DEFAULT_SETTINGS.requireChannelBindings),
    maxClockSkewSeconds: seconds(raw.maxClockSkewSeconds),
    fixedServerChallenge: serverChallenge(raw.fixedServerChallenge),
    fixedTime: date(raw.fixedTime),
  };
}

function lmCompatibilityLevel(value: unknown): LmCompatibilityLevel {
  if (value === undefined) return DEFAULT_SETTINGS.lmCompatibilityLevel;
  if (value === 0 || value === 1 || value === 2 || value === 3 || value === 4 || value === 5) return value;
  throw new NtlmSettingsError(`lmCompatibilityLevel must be an integer from 0 to 5, not ${JSON.stringify(value)}`);
}

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  throw new NtlmSettingsError(`${name} must be true or false, not ${JSON.stringify(value)}`);
}

function seconds(value: unknown): number {
  if (value === undefined) return DEFAULT_SETTINGS.maxClockSkewSeconds;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new NtlmSettingsError(`maxClockSkewSeconds must be a number of seconds (0 turns the check off), not ${JSON.stringify(value)}`);
}

function serverChallenge(value: unknown): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^[0-9a-f]{16}$/i.test(value)) return Uint8Array.from(Buffer.from(value, 'hex'));
  throw new NtlmSettingsError(`fixedServerChallenge must be 16 hex digits, not ${JSON.stringify(value)}`);
}

function date(value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = typeof value === 'string' ? new Date(value) : undefined;
  if (parsed !== undefined && Number.isFinite(parsed.getTime())) return parsed;
  throw new NtlmSettingsError(`fixedTime must be an ISO date string, not ${JSON.stringify(value)}`);
}
