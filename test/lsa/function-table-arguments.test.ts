// The LSA's functions called by a package with arguments they must refuse, in a real machine (the
// package's LsaApCallPackageUntrusted makes the calls inside the LSA and says what each answered):
// every one answers with a status or, for the members that answer a pointer, null, as Windows'
// answer NULL; none throws into the package, and none leaves anything behind (a logon session no
// LogonId can release, LSA heap counted for a block never handed out).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusName } from '../../headers/status.js';
import { fixturePackage, withMachine } from '../helpers/machine.js';

/** An answer as the fixture reports it, by name: a status, "null", "N bytes", or "threw: ...". */
function answered(r: unknown): string {
  const a = r as { status?: number; value?: string; bytes?: number; threw?: string; released?: unknown };
  if (a.threw !== undefined) return `threw: ${a.threw}`;
  if (a.value !== undefined) return a.value;
  if (a.bytes !== undefined) return `${a.bytes} bytes`;
  const name = a.status === 0 ? 'STATUS_SUCCESS' : statusName(a.status!);
  return a.released === undefined ? name : `${name}, released: ${answered(a.released)}`;
}

const INVALID = 'STATUS_INVALID_PARAMETER';

/** What each call must answer. */
const EXPECTED: Record<string, string> = {
  // A LogonId is a LUID as the headers have it: a bigint of 64 bits (HighPart signed).
  'CreateLogonSession({LowPart,HighPart})': INVALID,
  'CreateLogonSession(5)': INVALID,
  'CreateLogonSession(0)': INVALID,
  "CreateLogonSession('7')": INVALID,
  'CreateLogonSession(2n**64n)': INVALID,
  'CreateLogonSession(-(2n**63n)-1n)': INVALID,
  'CreateLogonSession(Symbol)': INVALID,
  'CreateLogonSession(0x5e55n)': 'STATUS_SUCCESS, released: STATUS_SUCCESS',
  'CreateLogonSession(-2n)': 'STATUS_SUCCESS, released: STATUS_SUCCESS',
  'CreateLogonSession(2n**63n-1n)': 'STATUS_SUCCESS, released: STATUS_SUCCESS',
  'CreateLogonSession(undefined)': 'STATUS_SUCCESS, released: STATUS_SUCCESS',
  'CreateLogonSession(null)': 'STATUS_SUCCESS, released: STATUS_SUCCESS',
  'DeleteLogonSession(Symbol)': INVALID,
  "DeleteLogonSession('x')": INVALID,
  'AddCredential(Symbol)': INVALID,
  'GetCredentials({})': INVALID,
  'DeleteCredential(1.5)': INVALID,
  'AddCredential(null Credentials)': INVALID,
  "AddCredential('bytes' Credentials)": INVALID,
  'GetCredentials(QueryContext -1)': 'STATUS_OBJECT_NAME_NOT_FOUND',
  'DeleteLogonSession(held)': 'STATUS_SUCCESS',
  // A Length that is no size, or that no process holds: NULL. AllocateLsaHeap's Length is a ULONG.
  'AllocateLsaHeap(-1)': 'null',
  'AllocatePrivateHeap(-1)': 'null',
  'AllocateLsaHeap(1099511627776)': 'null',
  'AllocatePrivateHeap(1099511627776)': 'null',
  'AllocateLsaHeap(1.5)': 'null',
  'AllocatePrivateHeap(1.5)': 'null',
  'AllocateLsaHeap(NaN)': 'null',
  'AllocatePrivateHeap(NaN)': 'null',
  "AllocateLsaHeap('8')": 'null',
  "AllocatePrivateHeap('8')": 'null',
  'AllocateLsaHeap(8)': '8 bytes',
  'AllocatePrivateHeap(8)': '8 bytes',
  'AllocateLsaHeap(4294967296)': 'null',
  // OpenSamUser's Name is a string; GetUserCredentials' and CloseSamUser's handle one it gave.
  'OpenSamUser(null)': INVALID,
  'OpenSamUser(42)': INVALID,
  'OpenSamUser(Proxy)': INVALID,
  "OpenSamUser('alice')": 'STATUS_SUCCESS',
  'GetUserCredentials(5n)': INVALID,
  'GetUserCredentials(Symbol)': INVALID,
  'CloseSamUser(5n)': INVALID,
  "CloseSamUser('alice')": 'STATUS_SUCCESS',
};

describe('the LSA functions a package gets, called with bad arguments', () => {
  it('answer STATUS_INVALID_PARAMETER (or NULL for an allocation) and never throw; a refused CreateLogonSession makes no session, a refused allocation counts nothing', async () => {
    await withMachine({ packages: [fixturePackage('bad-context-result')] }, async (machine) => {
      const client = await machine.spawn('client');
      const { lsaHandle } = await client.sspi.lsaConnectUntrusted();
      const id = (await client.sspi.lsaLookupAuthenticationPackage(lsaHandle!, 'BadResult')).authenticationPackage!;
      const before = await machine.lsa.stats();
      const r = await client.sspi.lsaCallAuthenticationPackage(lsaHandle!, id, Uint8Array.from([1]));
      assert.equal(r.status, 0, JSON.stringify(r.cause));
      const results = JSON.parse(new TextDecoder().decode(r.returnBuffer)) as Record<string, unknown>;
      const got = Object.fromEntries(Object.entries(results).map(([call, answer]) => [call, answered(answer)]));
      assert.deepEqual(got, EXPECTED);
      const after = await machine.lsa.stats();
      assert.equal(after.logonSessions, before.logonSessions, 'no logon session is left that no LogonId releases');
      assert.equal(after.lsaHeapAllocations, before.lsaHeapAllocations, 'LSA heap: what was handed out was freed');
      assert.equal(after.lsaHeapBytes, before.lsaHeapBytes, 'and a refused allocation counted nothing');
    });
  });
});
