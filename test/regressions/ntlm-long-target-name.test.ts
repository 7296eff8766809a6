// Found while fuzzing InitializeSecurityContext's parameters: a target name of more than 32,767
// characters made the NTLM package throw at its second call ("MsvAvTargetName value exceeds 65535
// bytes"), which the LSA turned into SEC_E_INTERNAL_ERROR. A target name that cannot fit in the
// AUTHENTICATE_MESSAGE (MsvAvTargetName's AvLen and the NtChallengeResponseFields' Len are 16 bits)
// is now answered SEC_E_INVALID_TOKEN, as the package already answers names it cannot send.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ISC_REQ, SECBUFFER } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import type { CredHandle } from '../../sspi/handles.js';
import { bootTwoProcesses, bothCredentials } from '../helpers/machine.js';

describe('an NTLM client given a very long target name', () => {
  let machine: Machine, proc: AppProcess;
  let outbound: CredHandle, inbound: CredHandle;
  before(async () => {
    ({ machine, client: proc } = await bootTwoProcesses(['ntlm']));
    ({ outbound, inbound } = await bothCredentials(proc, 'NTLM'));
  });
  after(() => machine.shutdown());

  /** The handshake with `targetName`, call by call; every status by name. */
  async function handshake(targetName: string): Promise<string[]> {
    const statuses: string[] = [];
    const first = await proc.sspi.initializeSecurityContext({ credential: outbound, contextReq: ISC_REQ.CONFIDENTIALITY, targetName });
    statuses.push(statusName(first.status));
    const server = await proc.sspi.acceptSecurityContext({
      credential: inbound,
      input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: first.output[0]!.pvBuffer }],
      contextReq: 0,
    });
    statuses.push(statusName(server.status));
    const second = await proc.sspi.initializeSecurityContext({
      credential: outbound,
      context: first.context!,
      contextReq: ISC_REQ.CONFIDENTIALITY,
      targetName,
      input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: server.output[0]!.pvBuffer }],
    });
    statuses.push(statusName(second.status));
    if (second.output[0] !== undefined && second.output[0].pvBuffer.byteLength > 0) {
      const last = await proc.sspi.acceptSecurityContext({
        credential: inbound,
        context: server.context!,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: second.output[0].pvBuffer }],
        contextReq: 0,
      });
      statuses.push(statusName(last.status));
    }
    await proc.sspi.deleteSecurityContext(first.context!);
    await proc.sspi.deleteSecurityContext(server.context!);
    return statuses;
  }

  test('answers a 40,000-character target name with SEC_E_INVALID_TOKEN at the first call: longer than a UNICODE_STRING holds, the LSA takes none', async () => {
    // (It had been taken, and refused at the second call; since then the LSA refuses target names
    // past 32,767 characters before any package sees them: they had let a process pin megabytes a context.)
    const first = await proc.sspi.initializeSecurityContext({ credential: outbound, contextReq: ISC_REQ.CONFIDENTIALITY, targetName: 'x'.repeat(40_000) });
    assert.equal(statusName(first.status), 'SEC_E_INVALID_TOKEN');
    assert.equal(first.context, undefined);
  });

  test('answers a 32,767-character target name (it fits MsvAvTargetName, not the NtChallengeResponse) with SEC_E_INVALID_TOKEN', async () => {
    assert.deepEqual(await handshake('x'.repeat(32_767)), ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_INVALID_TOKEN']);
  });

  test('still authenticates with a 1,000-character target name', async () => {
    assert.deepEqual(await handshake('HTTP/' + 'x'.repeat(995)), ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_OK']);
  });

  test('leaves no context in the LSA after either', async () => {
    assert.equal((await machine.lsa.stats()).contexts, 0);
  });
});
