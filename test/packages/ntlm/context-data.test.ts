// ContextData, what the LSA half hands a process for SpInitUserModeContext: it round-trips, and
// the user-mode half refuses anything malformed with SEC_E_INVALID_TOKEN instead of throwing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { statusName } from '../../../headers/status.js';
import { SpUserModeInitialize } from '../../../packages/ntlm/index.js';
import { packContextData, unpackContextData, type ContextData } from '../../../packages/ntlm/context-data.js';
import { NtlmParseError } from '../../../packages/ntlm/messages.js';
import { NTLMSSP_NEGOTIATE } from '../../../packages/ntlm/flags.js';
import { COMMON, NTLMV2 } from './vectors.js';

function sample(): ContextData {
  return {
    side: 'server',
    flags: NTLMV2.challengeFlags,
    attributes: 0x0002081c,
    established: 133_000_000_000_000_000n,
    exportedSessionKey: Uint8Array.from(COMMON.randomSessionKey),
    userName: 'SSPI-EMU\\Ålice',
    serverName: 'HTTP/sspi-emu',
    mechListMics: { sent: false, received: false },
  };
}

async function userTable() {
  const init = await SpUserModeInitialize(0x00010000);
  const table = init.ppTables[0]!;
  return table;
}

describe('ContextData', () => {
  test('round-trips every field', () => {
    const data = sample();
    assert.deepEqual(unpackContextData(packContextData(data)), data);
    for (const mechListMics of [
      { sent: true, received: false },
      { sent: false, received: true },
      { sent: true, received: true },
    ]) {
      assert.deepEqual(unpackContextData(packContextData({ ...data, mechListMics })), { ...data, mechListMics });
    }
  });

  test('round-trips names that are not ASCII, empty, long (past the short-name path) and long with a non-ASCII tail', () => {
    const data = sample();
    for (const [userName, serverName] of [
      ['CONTOSO\\Zoë', 'HTTP/straße.example'],
      ['', ''],
      ['DOMAIN\\' + 'u'.repeat(300), 'HTTP/' + 'h'.repeat(1000)],
      ['D\\' + 'x'.repeat(255) + 'é', '日本'],
      ['A\\b', 'x'.repeat(256)],
    ] as const) {
      const bytes = packContextData({ ...data, userName, serverName });
      assert.deepEqual(unpackContextData(bytes), { ...data, userName, serverName });
      assert.equal(bytes.length, 40 + 4 + Buffer.byteLength(userName) + Buffer.byteLength(serverName));
    }
  });

  const spoilt: Array<[string, (bytes: Uint8Array) => Uint8Array]> = [
    ['truncated header', (b) => b.subarray(0, 20)],
    ['a bad magic', (b) => Uint8Array.from(b).fill(0x58, 0, 1)],
    ['an unknown format', (b) => Uint8Array.from(b).fill(9, 4, 5)],
    ['an unknown side', (b) => Uint8Array.from(b).fill(7, 5, 6)],
    ['an unknown mechListMIC bit', (b) => Uint8Array.from(b).fill(4, 6, 7)],
    ['a field running past the end', (b) => b.subarray(0, b.length - 3)],
    ['bytes after the last field', (b) => Uint8Array.from([...b, 0])],
    [
      'a name that is not UTF-8',
      (b) => {
        const out = Uint8Array.from(b);
        out[out.length - 1] = 0xff;
        return out;
      },
    ],
  ];

  for (const [name, spoil] of spoilt) {
    test(`with ${name} is NtlmParseError BAD_STATE, and SpInitUserModeContext answers SEC_E_INVALID_TOKEN`, async () => {
      const bytes = spoil(packContextData(sample()));
      assert.throws(
        () => unpackContextData(bytes),
        (error: unknown) => error instanceof NtlmParseError && error.code === 'BAD_STATE',
      );
      const table = await userTable();
      assert.equal(statusName(await table.InitUserModeContext(1, bytes)), 'SEC_E_INVALID_TOKEN');
    });
  }

  test('flags the user-mode half cannot derive keys for (DATAGRAM) are SEC_E_INVALID_TOKEN too', async () => {
    const table = await userTable();
    const bytes = packContextData({ ...sample(), flags: NTLMV2.challengeFlags | NTLMSSP_NEGOTIATE.DATAGRAM });
    assert.equal(statusName(await table.InitUserModeContext(1, bytes)), 'SEC_E_INVALID_TOKEN');
  });

  test('carries no signing or sealing state: 40 header bytes and the two names', () => {
    const data = sample();
    const names = Buffer.byteLength(data.userName, 'utf8') + Buffer.byteLength(data.serverName, 'utf8');
    assert.equal(packContextData(data).length, 40 + 2 + 2 + names);
  });

  test('a good one makes a context that derives its keys and unseals the 4.2.4.4 message, in this thread', async () => {
    const table = await userTable();
    assert.equal(statusName(await table.InitUserModeContext(7, packContextData(sample()))), 'SEC_E_OK');
    const buffers = [
      { BufferType: 2, pvBuffer: Buffer.from(NTLMV2.signature, 'hex') },
      { BufferType: 1, pvBuffer: Buffer.from(NTLMV2.sealedPlaintext, 'hex') },
    ];
    const result = await table.UnsealMessage(7, buffers, 0);
    assert.equal(statusName(result.status), 'SEC_E_OK');
    assert.deepEqual(Uint8Array.from(buffers[1]!.pvBuffer), COMMON.plaintext);
    assert.equal(statusName(await table.DeleteUserModeContext(7)), 'SEC_E_OK');
    assert.equal(statusName((await table.QueryContextAttributes(7, 0)).status), 'SEC_E_INVALID_HANDLE');
  });
});
