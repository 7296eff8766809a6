// --domain D --dc HOST:PORT --machine NAME:SECRET: the machine a command boots joins a domain as a
// member (MachineOptions.join), so that its NTLM passes the domain's users' logons through to the
// domain controller's Netlogon (`sspi-emu dc --machine NAME:SECRET` prints its address). The three
// go together: --dc and --machine join the domain --domain names.

import { parseHostPort, parseMachineAccount, type DomainJoinOptions } from '../machine/index.js';
import { valued } from './options.js';
import { UsageError } from './usage.js';

/** --dc and --machine (--domain is the command's own: serve declares it, run already has it for the client). */
export const JOIN_OPTIONS = valued('dc', 'machine');

/** The machine option the three ask for, to spread into MachineOptions (nothing when none of --dc and --machine is given). */
export function domainJoin(values: { domain?: string | undefined; dc?: string | undefined; machine?: string | undefined }): { join?: DomainJoinOptions } {
  if (values.dc === undefined && values.machine === undefined) return {};
  if (values.dc === undefined || values.machine === undefined || values.domain === undefined)
    throw new UsageError('joining a domain takes --domain D, --dc HOST:PORT and --machine NAME:SECRET together');
  try {
    parseHostPort(values.dc, '--dc');
    parseMachineAccount(values.machine, '--machine');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(values.domain))
    throw new UsageError(`--domain ${JSON.stringify(values.domain)} is not a domain name (EXAMPLE or EXAMPLE.TEST)`);
  return { join: { domain: values.domain, dc: values.dc, machineAccount: values.machine } };
}
