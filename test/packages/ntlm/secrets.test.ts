// NTLM's long-term secrets stay in the LSA: a tap on every channel during full NTLM runs finds the
// password only where the client's own explicit credentials go into the LSA
// (CopyFromClientBuffer's reply), and the NT hash nowhere at all, in any encoding. Trace events,
// which carry the tokens, are scanned too.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TapRecord } from '../../../ipc/trace.js';
import { ntowfv1 } from '../../../packages/ntlm/crypto.js';
import { betweenApps, findSecret, lsaToProcess } from '../../helpers/scan.js';
import { withMachine } from '../../helpers/machine.js';
import { drive } from './drive.js';

const PASSWORD = 'Passw0rd!';
const NT_HASH = ntowfv1(PASSWORD);

/** A tapped message as JSON, every Uint8Array as hex and base64, for a plain-text search as well. */
function serialized(message: unknown): string {
  return JSON.stringify(message, (_key, value: unknown) => {
    if (value instanceof Uint8Array) {
      const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      return { hex: b.toString('hex'), base64: b.toString('base64') };
    }
    return typeof value === 'bigint' ? value.toString() : value;
  });
}

function textForms(secret: Uint8Array | string): string[] {
  const raw = typeof secret === 'string' ? [Buffer.from(secret, 'utf8'), Buffer.from(secret, 'utf16le')] : [Buffer.from(secret)];
  return [...(typeof secret === 'string' ? [secret] : []), ...raw.flatMap((b) => [b.toString('hex'), b.toString('base64')])];
}

function assertClean(taps: TapRecord[], allowPassword: (t: TapRecord) => boolean): void {
  for (const t of taps) {
    const where = `${t.process} ${t.direction} ${t.channel} ${(t.message as { op?: string }).op ?? ''}`;
    const json = serialized(t.message);
    assert.deepEqual(findSecret(t.message, NT_HASH), [], `NT hash (bytes) in ${where}`);
    assert.ok(!textForms(NT_HASH).some((form) => json.includes(form)), `NT hash (text) in ${where}`);
    if (allowPassword(t)) continue;
    assert.deepEqual(findSecret(t.message, PASSWORD), [], `password (bytes) in ${where}`);
    assert.ok(!textForms(PASSWORD).some((form) => json.includes(form)), `password (text) in ${where}`);
  }
}

/** The one place the password may travel: the client's explicit credentials, read by the LSA from the client's heap. */
function explicitCredentialsIntoLsa(t: TapRecord): boolean {
  const message = t.message as { kind?: string; op?: string };
  return t.channel.startsWith('lpc:') && !lsaToProcess(t) && message.kind === 'return' && message.op === 'CopyFromClientBuffer';
}

describe('NTLM secrets stay in the LSA', () => {
  test('no password or NT hash crosses any channel when the client uses its own logon', async () => {
    await withMachine({ packages: ['ntlm'], accounts: [`alice:${PASSWORD}`], trace: true }, async (machine) => {
      machine.tap(true);
      const server = await machine.spawn('server');
      const client = await machine.spawn('client', { logonAs: 'alice' });
      const serving = server.runApp(null, { name: 'svc', package: 'NTLM' });
      const result = await client.runApp(null, { server: 'svc', package: 'NTLM', messages: 3 });
      assert.equal(result.statusName, 'SEC_E_OK', result.detail);
      assert.equal((await serving).statusName, 'SEC_E_OK');
      const taps = await machine.taps();
      assert.ok(taps.some(lsaToProcess) && taps.some(betweenApps), `the tap saw LPC and app traffic (${taps.length} messages)`);
      assertClean(taps, () => false);
      assertClean(
        (await machine.events()).map((e) => ({ process: e.process, channel: 'trace', direction: 'send', message: e })),
        () => false,
      );
    });
  });

  test('an explicit password crosses only from the client into the LSA, and the NT hash never', async () => {
    await withMachine({ packages: ['ntlm'], accounts: [`alice:${PASSWORD}`], trace: true }, async (machine) => {
      machine.tap(true);
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const serving = server.runApp(null, { name: 'svc', package: 'NTLM' });
      const result = await client.runApp(null, { server: 'svc', package: 'NTLM', user: 'alice', domain: 'SSPI-EMU', password: PASSWORD, messages: 3 });
      assert.equal(result.statusName, 'SEC_E_OK', result.detail);
      await serving;
      // And a handshake driven call by call, failed and successful, with query calls in between.
      assert.equal((await drive(client, server)).server, 'SEC_E_OK');
      assert.equal((await drive(client, server, { authData: { User: 'alice', Domain: '', Password: 'not it' } })).server, 'SEC_E_LOGON_DENIED');
      const taps = await machine.taps();
      assert.ok(taps.some(explicitCredentialsIntoLsa), 'the explicit password did go into the LSA');
      assertClean(taps, explicitCredentialsIntoLsa);
      assert.ok(taps.filter(lsaToProcess).length > 10 && taps.filter(betweenApps).length > 10);
      assertClean(
        (await machine.events()).map((e) => ({ process: e.process, channel: 'trace', direction: 'send', message: e })),
        () => false,
      );
    });
  });
});
