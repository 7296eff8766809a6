// The Negotiate package's settings (SECPKG_PARAMETERS.PackageSettings, from the LSA configuration's
// entry "negotiate": Machine.boot({ packageSettings: { negotiate: { ... } } })).
//
//   allowNtlmFallback   whether the initiator may fall back to NTLM when Kerberos cannot start (no
//                       realm, no KDC answering, a service the KDC does not know); default true, as
//                       Windows does. false is what a Windows client gets from "Network security:
//                       Restrict NTLM: Outgoing NTLM traffic to remote servers" set to "Deny all", or
//                       from an application that names "!ntlm" in SEC_WINNT_AUTH_IDENTITY_EX's
//                       PackageList: NTLM is never offered, and InitializeSecurityContext answers
//                       what Kerberos answered (SEC_E_NO_AUTHENTICATING_AUTHORITY when no KDC could
//                       be asked, SEC_E_TARGET_UNKNOWN when the KDC does not know the service).
//
// An unknown key or a value of the wrong type makes SpInitialize throw, so the LSA's load
// diagnostic names it.

import { EmuError } from '../kit/index.js';

export interface NegotiateSettings {
  readonly allowNtlmFallback: boolean;
}

export const DEFAULT_NEGOTIATE_SETTINGS: NegotiateSettings = Object.freeze({ allowNtlmFallback: true });

/** A Negotiate setting that cannot be used; its message names the setting. */
export class NegotiateSettingsError extends EmuError<'BAD_SETTING'> {
  override readonly name = 'NegotiateSettingsError';
  constructor(message: string) {
    super('BAD_SETTING', message);
  }
}

/** Reads PackageSettings; throws NegotiateSettingsError for an unknown key or a bad value. */
export function parseNegotiateSettings(raw: Readonly<Record<string, unknown>>): NegotiateSettings {
  for (const key of Object.keys(raw))
    if (key !== 'allowNtlmFallback') throw new NegotiateSettingsError(`unknown Negotiate setting ${JSON.stringify(key)} (known: allowNtlmFallback)`);
  const allow = raw.allowNtlmFallback;
  if (allow !== undefined && typeof allow !== 'boolean') throw new NegotiateSettingsError(`allowNtlmFallback must be true or false, not ${JSON.stringify(allow)}`);
  return { allowNtlmFallback: allow ?? DEFAULT_NEGOTIATE_SETTINGS.allowNtlmFallback };
}
