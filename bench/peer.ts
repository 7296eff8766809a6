// A peer to compare with: the NTLM code that HTTP clients in Node use (httpntlm's ntlm.js), doing
// its part of a handshake in-process: NEGOTIATE, parse a CHALLENGE, AUTHENTICATE (NTLMv2).

import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

interface HttpNtlm {
  createType1Message(options: Record<string, string>): string;
  parseType2Message(raw: string, callback: (error: Error) => void): object | null;
  createType3Message(type2: object, options: Record<string, string>): string;
}

/** A CHALLENGE_MESSAGE with target info (MS-NLMP 4.2.4.3), as a server would send it. */
const CHALLENGE =
  'NTLM TlRMTVNTUAACAAAADAAMADgAAAAzgoriASNFZ4mrze8AAAAAAAAAACQAJABEAAAABgBwFwAAAA9TAGUAcgB2AGUAcgACAAwARABvAG0AYQBpAG4AAQAMAFMAZQByAHYAZQByAAAAAAA=';

export interface PeerFigures {
  name: string;
  version: string;
  what: string;
  opsPerSec: number;
}

export function httpntlmClientOpsPerSecond(durationMs: number): PeerFigures | { name: string; skipped: string } {
  const require = createRequire(import.meta.url);
  let ntlm: HttpNtlm;
  let version = '?';
  try {
    ntlm = require('httpntlm/ntlm.js') as HttpNtlm;
    version = (require('httpntlm/package.json') as { version: string }).version;
  } catch (error) {
    return { name: 'httpntlm', skipped: `not installed: ${String(error)}` };
  }
  const options = { username: 'User', password: 'Password', domain: 'Domain', workstation: 'COMPUTER' };
  const op = (): void => {
    ntlm.createType1Message(options);
    const type2 = ntlm.parseType2Message(CHALLENGE, (e) => {
      throw e;
    });
    if (type2 === null) throw new Error('httpntlm could not parse the CHALLENGE');
    ntlm.createType3Message(type2, options);
  };
  for (let i = 0; i < 50; i++) op();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    op();
    n++;
  }
  return {
    name: 'httpntlm',
    version,
    what: 'client side: NEGOTIATE + parse CHALLENGE + AUTHENTICATE (NTLMv2), in-process',
    opsPerSec: n / ((performance.now() - start) / 1000),
  };
}
