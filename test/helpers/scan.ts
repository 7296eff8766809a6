// Scans tapped channel traffic for secret bytes in any encoding: raw, hex, base64, UTF-16.

import type { TapRecord } from '../../ipc/trace.js';

// The scan itself is the conformance suite's (sspi-emu check looks for the password the same way).
export { encodings, findSecret } from '../../check/secrets.js';

/** Whether a tapped message travelled from the LSA into an app process. */
export function lsaToProcess(t: TapRecord): boolean {
  return t.channel.startsWith('lpc:') && ((t.process === 'lsa' && t.direction === 'send') || (t.process !== 'lsa' && t.direction === 'receive'));
}

/** Whether a tapped message travelled between two app processes. */
export function betweenApps(t: TapRecord): boolean {
  return t.channel.startsWith('app:');
}
