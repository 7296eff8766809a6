// Trust boundaries, the address space: worker threads share one, so code in any app process can
// read the LSA's memory (/proc/self/mem); with lsaIsolation: 'process' the LSA is an OS process of
// its own and nothing it derives is in the machine's process. The test reads the machine's own
// memory (where every app process runs) during a full NTLM run, looking for alice's NT hash, which
// only the LSA computes: with the LSA in its own process it is not there; with the LSA in a worker
// thread it is (which shows that the scan finds what is there).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canReadOwnMemory, scanOwnMemory } from '../helpers/memory.js';
import { withMachine } from '../helpers/machine.js';

const PASSWORD = 'Passw0rd!';

/**
 * alice's NT hash, masked, computed in another OS process so that this one never holds it: the
 * child prints a random mask and the hash XOR the mask.
 */
function maskedNtHash(): { masked: Uint8Array; mask: Uint8Array } {
  const crypto = fileURLToPath(new URL('../../packages/ntlm/crypto.js', import.meta.url));
  const script = `
    const { ntowfv1 } = await import(${JSON.stringify(crypto)});
    const { randomBytes } = await import('node:crypto');
    const hash = ntowfv1(${JSON.stringify(PASSWORD)});
    const mask = randomBytes(hash.length);
    console.log(Buffer.from(mask).toString('hex') + ' ' + Buffer.from(hash.map((b, i) => b ^ mask[i])).toString('hex'));`;
  const [mask, masked] = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim().split(' ') as [string, string];
  return { mask: new Uint8Array(Buffer.from(mask, 'hex')), masked: new Uint8Array(Buffer.from(masked, 'hex')) };
}

const skip = canReadOwnMemory() ? false : 'this system does not let a process read /proc/self/mem';

/** A full NTLM run (alice's own logon, and her explicit credentials), then a scan of this process's memory while the machine is up. */
async function scanDuringNtlmRun(lsaIsolation: 'thread' | 'process', needle: { masked: Uint8Array; mask: Uint8Array }) {
  return withMachine({ lsaIsolation, packages: ['ntlm'] }, async (machine) => {
    const server = await machine.spawn('server');
    const client = await machine.spawn('client', { logonAs: 'alice' });
    const serving = server.runApp(null, { name: 'svc', package: 'NTLM' });
    const explicit = await client.runApp(null, { server: 'svc', package: 'NTLM', user: 'alice', domain: 'SSPI-EMU', password: PASSWORD, messages: 2 });
    await serving;
    const ownLogon = server.runApp(null, { name: 'svc2', package: 'NTLM' });
    const implicit = await client.runApp(null, { server: 'svc2', package: 'NTLM', messages: 2 });
    await ownLogon;
    assert.equal(explicit.statusName, 'SEC_E_OK');
    assert.equal(implicit.statusName, 'SEC_E_OK');
    return scanOwnMemory(needle.masked, needle.mask);
  });
}

describe("the LSA's address space", { skip }, () => {
  // The process mode first: memory a worker-thread LSA freed is not wiped, and would be found afterwards.
  it("with the LSA in its own OS process, alice's NT hash is nowhere in the machine's process during an NTLM run", { timeout: 120_000 }, async () => {
    const scan = await scanDuringNtlmRun('process', maskedNtHash());
    assert.ok(scan.bytes > 10_000_000, `the scan read the process's memory (${scan.bytes} bytes in ${scan.regions} regions)`);
    assert.equal(scan.found, false);
  });

  it('with the LSA in a worker thread, code in any app process can read it there (the scan finds it)', { timeout: 120_000 }, async () => {
    const scan = await scanDuringNtlmRun('thread', maskedNtHash());
    assert.equal(scan.found, true, `read ${scan.bytes} bytes in ${scan.regions} regions`);
  });
});
