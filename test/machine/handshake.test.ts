// The seed's handshake across real worker boundaries: who runs where, the three legs in order,
// MappedContext interception and the user-mode initialization it triggers.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { ALICE, establish, fixturePackage, withMachine } from '../helpers/machine.js';
import { PROBE_ATTR_LSA, PROBE_ATTR_USER } from '../fixtures/packages/probe-core.js';

describe('the handshake across processes', () => {
  it('runs the client, the server and the LSA on three different threads', async () => {
    await withMachine({ trace: true }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const threads = new Set([machine.lsa.threadId, client.threadId, server.threadId, (await client.stats()).threadId]);
      assert.equal(threads.size, 3, 'the stats thread id is the client worker itself');
      const done = await establish(client, server);
      assert.ok(done.ok);
      const events = await machine.events();
      const lsaCalls = events.filter((e) => e.call === 'SpInitLsaModeContext' || e.call === 'SpAcceptLsaModeContext');
      assert.ok(lsaCalls.length >= 4);
      for (const e of lsaCalls) assert.equal(e.threadId, machine.lsa.threadId, `${e.call} runs in the LSA`);
      const userCalls = events.filter((e) => e.call === 'SpInitUserModeContext');
      assert.deepEqual(new Set(userCalls.map((e) => e.threadId)), new Set([client.threadId, server.threadId]));
      for (const e of userCalls) assert.equal(e.threadId, e.process === 'client' ? client.threadId : server.threadId);
    });
  });

  it('reports from inside each half the thread it runs on', async () => {
    await withMachine({ packages: [fixturePackage('probe')] }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, { package: 'Probe' });
      assert.ok(done.ok, JSON.stringify(done.steps));
      const inLsa = await client.sspi.queryContextAttributes(done.clientContext!, PROBE_ATTR_LSA);
      const inUser = await client.sspi.queryContextAttributes(done.clientContext!, PROBE_ATTR_USER);
      assert.equal((inLsa.buffer as { lsaThreadId: number }).lsaThreadId, machine.lsa.threadId);
      assert.equal((inUser.buffer as { userThreadId: number }).userThreadId, client.threadId);
    });
  });

  it('follows the three legs of the seed call by call with the statuses in order', async () => {
    await withMachine({ trace: true }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server);
      assert.deepEqual(
        done.steps.map((s) => `${s.process} ${s.api} ${s.status}`),
        [
          'client InitializeSecurityContext SEC_I_CONTINUE_NEEDED',
          'server AcceptSecurityContext SEC_I_CONTINUE_NEEDED',
          'client InitializeSecurityContext SEC_E_OK',
          'server AcceptSecurityContext SEC_E_OK',
        ],
      );
      const events = await machine.events();
      const order = events
        .filter(
          (e) =>
            e.phase === 'return' &&
            ['SpInitLsaModeContext', 'SpAcceptLsaModeContext', 'SpUserModeInitialize', 'SpInstanceInit', 'SpInitUserModeContext'].includes(e.call),
        )
        .map((e) => `${e.process} ${e.call} ${e.status}`);
      assert.deepEqual(order, [
        'lsa SpInitLsaModeContext SEC_I_CONTINUE_NEEDED',
        'lsa SpAcceptLsaModeContext SEC_I_CONTINUE_NEEDED',
        'lsa SpInitLsaModeContext SEC_E_OK',
        'client SpUserModeInitialize SEC_E_OK',
        'client SpInstanceInit SEC_E_OK',
        'client SpInitUserModeContext SEC_E_OK',
        'lsa SpAcceptLsaModeContext SEC_E_OK',
        'server SpUserModeInitialize SEC_E_OK',
        'server SpInstanceInit SEC_E_OK',
        'server SpInitUserModeContext SEC_E_OK',
      ]);
    });
  });

  it('never lets MappedContext or ContextData reach the application', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server);
      assert.ok(done.ok);
      const seen = JSON.stringify(done.results, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      assert.doesNotMatch(seen, /MappedContext|ContextData|contextData|mapped/);
      for (const r of done.results)
        assert.deepEqual(
          Object.keys(r as object).filter((k) => !['status', 'credential', 'expiry', 'context', 'output', 'contextAttr', 'cause'].includes(k)),
          [],
        );
    });
  });

  it('loads a package into a process once, however many contexts it maps there', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      for (let i = 0; i < 5; i++) assert.ok((await establish(client, server)).ok);
      for (const proc of [client, server]) {
        const { userMode } = await proc.stats();
        assert.deepEqual(Object.values(userMode.spUserModeInitialize), [1]);
        assert.deepEqual(userMode.spInstanceInit, { Example: 1 });
        assert.equal(userMode.spInitUserModeContext, 5);
      }
    });
  });

  it('carries a ClientCallback from the LSA to the function the user-mode half registered, and the client buffer functions into the process', async () => {
    await withMachine({ packages: [fixturePackage('probe')], trace: true }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client', { logonAs: 'alice' });
      const done = await establish(client, server, { package: 'Probe', authData: null });
      assert.ok(done.ok);
      const result = await client.sspi.queryContextAttributes(done.clientContext!, PROBE_ATTR_LSA);
      assert.equal(statusName(result.status), 'SEC_E_OK');
      const probe = result.buffer as Record<string, unknown>;
      assert.equal(probe.callbackStatus, 0);
      assert.equal(probe.callbackOutput, `ping-pong 7 from thread ${client.threadId}`);
      assert.equal(probe.roundTrip, 'lsa-data');
      assert.deepEqual([probe.allocate, probe.copyTo, probe.free], [0, 0, 0]);
      assert.equal(probe.clientProcessId, client.pid);
      assert.notEqual(probe.clientLogonId, 0x3e6n, 'a process spawned as alice has her logon session, not the anonymous one');
      const events = await machine.events();
      const callback = events.find((e) => e.call === 'LsaCallbackFunction' && e.phase === 'call');
      assert.equal(callback?.threadId, client.threadId);
    });
  });

  it('answers QueryContextAttributes for the levels the issue names', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server);
      const ctx = done.clientContext!;
      const sizes = await client.sspi.queryContextAttributes(ctx, SECPKG_ATTR.SIZES);
      assert.deepEqual(sizes.buffer, { cbMaxToken: 512, cbMaxSignature: 24, cbBlockSize: 0, cbSecurityTrailer: 24 });
      const names = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NAMES);
      assert.equal(names.buffer?.sUserName, 'SSPI-EMU\\alice');
      const info = await client.sspi.queryContextAttributes(ctx, SECPKG_ATTR.PACKAGE_INFO);
      assert.equal(info.buffer?.PackageInfo.Name, 'Example');
      const flags = await client.sspi.queryContextAttributes(ctx, SECPKG_ATTR.FLAGS);
      assert.equal(typeof flags.buffer?.Flags, 'number');
      const life = await client.sspi.queryContextAttributes(ctx, SECPKG_ATTR.LIFESPAN);
      assert.equal(typeof life.buffer?.tsExpiry, 'bigint');
      const clientKey = await client.sspi.queryContextAttributes(ctx, SECPKG_ATTR.SESSION_KEY);
      const serverKey = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.SESSION_KEY);
      assert.equal(clientKey.buffer?.SessionKey.byteLength, 32);
      assert.deepEqual(clientKey.buffer?.SessionKey, serverKey.buffer?.SessionKey);
      const native = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NATIVE_NAMES);
      assert.equal(native.buffer?.sClientName, 'SSPI-EMU\\alice', 'NATIVE_NAMES is thunked to the LSA');
    });
  });

  it('authenticates with the process logon when no explicit credentials are given', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client', { logonAs: 'SSPI-EMU\\bob' });
      const done = await establish(client, server, { authData: null });
      assert.ok(done.ok, JSON.stringify(done.steps));
      const names = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NAMES);
      assert.equal(names.buffer?.sUserName, 'SSPI-EMU\\bob');
    });
  });

  it('answers SEC_E_NO_CREDENTIALS for default credentials in a process that runs as nobody', async () => {
    await withMachine({}, async (machine) => {
      const client = await machine.spawn('client');
      const r = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND });
      assert.equal(statusName(r.status), 'SEC_E_NO_CREDENTIALS');
      assert.equal(r.credential, undefined);
      const inbound = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.INBOUND });
      assert.equal(statusName(inbound.status), 'SEC_E_OK', 'a server needs no secret of its own');
    });
  });

  it('fails a wrong password with SEC_E_LOGON_DENIED at the server and an impostor server with SEC_E_MUTUAL_AUTH_FAILED at the client', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const wrong = await establish(client, server, { authData: { ...ALICE, Password: 'nope' } });
      assert.deepEqual(wrong.steps.at(-1), { process: 'server', api: 'AcceptSecurityContext', status: 'SEC_E_LOGON_DENIED' });
      const impostor = await establish(client, server, {
        transit: (token, leg) => {
          if (leg !== 2) return token;
          const forged = token.slice();
          forged[forged.length - 1]! ^= 0xff; // the server's proof, as a server without the secret would send it
          return forged;
        },
      });
      assert.deepEqual(impostor.steps.at(-1), { process: 'client', api: 'InitializeSecurityContext', status: 'SEC_E_MUTUAL_AUTH_FAILED' });
    });
  });

  it('reports the token sizes and Windows call names in the trace', async () => {
    await withMachine({ trace: true }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      await establish(client, server);
      const events = await machine.events();
      const isc = events.filter((e) => e.call === 'InitializeSecurityContext' && e.phase === 'return');
      assert.equal(isc.length, 2);
      assert.ok(isc.every((e) => e.tokenOut !== undefined && Buffer.from(e.tokenOut, 'base64').length > 0));
      assert.ok(
        events.every((e, i) => i === 0 || e.t >= events[i - 1]!.t),
        'events are in time order',
      );
      assert.ok(events.some((e) => e.call === 'MappedContext' && e.process === 'lsa'));
      const token = events.find((e) => e.call === 'AcceptSecurityContext' && e.phase === 'call')?.tokenIn;
      assert.equal(Buffer.from(token ?? '', 'base64').readUInt32LE(0), 0x31765845, 'the client hello crossed intact');
      assert.equal(SECBUFFER.TOKEN, 2);
    });
  });
});
