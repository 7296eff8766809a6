// The LSA's LPC handlers, in a real machine: a call is decoded before it is served, so a malformed
// body gets a status and changes nothing; a handle is looked up only among the calling process's
// own, so another process's values and made-up ones are SEC_E_INVALID_HANDLE; an unknown package is
// SEC_E_SECPKG_NOT_FOUND; and a package that throws or never answers fails only its own call.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MSV1_0_PACKAGE_NAME } from '../../headers/ntsecapi.js';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { LsaHandle } from '../../ipc/ids.js';
import { status } from '../helpers/calls.js';
import { ALICE, establish, fixturePackage, withMachine } from '../helpers/machine.js';

describe('LPC dispatch', () => {
  it('answers SEC_E_INVALID_HANDLE to a rogue process presenting another process LSA handle values over LPC', async () => {
    await withMachine({}, async (machine) => {
      machine.tap(true);
      const server = await machine.spawn('server');
      const victim = await machine.spawn('client');
      const rogue = await machine.spawn('client', { name: 'rogue' });
      const { serverContext } = await establish(victim, server);
      // Sniff the victim's LSA handle values off its channel, as an attacker on the wire would.
      const replies = (await machine.taps()).filter((t) => t.channel === 'lpc:client' && t.direction === 'receive');
      const handles = replies
        .map((t) => (t.message as { body?: { hNewContext?: number; hCredential?: number } }).body)
        .flatMap((b) => [b?.hNewContext, b?.hCredential]);
      const stolen = handles.filter((h): h is number => typeof h === 'number');
      assert.ok(stolen.length >= 2, 'the victim received LSA handles');
      const before = await machine.lsa.stats();
      for (const h of stolen) {
        assert.equal(status(await rogue.lpcCall('SpQueryContextAttributes', { hContext: h, ulAttribute: SECPKG_ATTR.NAMES })), 'SEC_E_INVALID_HANDLE');
        assert.equal(status(await rogue.lpcCall('SpDeleteContext', { hContext: h })), 'SEC_E_INVALID_HANDLE');
        assert.equal(status(await rogue.lpcCall('SpFreeCredentialsHandle', { hCredential: h })), 'SEC_E_INVALID_HANDLE');
        const leg = await rogue.lpcCall('SpInitLsaModeContext', {
          hCredential: h,
          hContext: null,
          pszTargetName: null,
          fContextReq: 0,
          TargetDataRep: 0,
          input: null,
          outputTypes: [SECBUFFER.TOKEN],
        });
        assert.equal(status(leg), 'SEC_E_INVALID_HANDLE');
      }
      const after = await machine.lsa.stats();
      assert.equal(after.contexts, before.contexts, 'nothing of the victim was freed');
      assert.equal(after.credentials, before.credentials);
      const names = await server.sspi.queryContextAttributes(serverContext!, SECPKG_ATTR.NATIVE_NAMES);
      assert.equal(status(names), 'SEC_E_OK', 'the owner still reaches its context in the LSA');
    });
  });

  it('answers SEC_E_INVALID_HANDLE for made-up handle values over LPC, whatever their type', async () => {
    await withMachine({}, async (machine) => {
      const client = await machine.spawn('client');
      for (const h of [0, 1, 0x10000, 2 ** 31, -1, 1.5, 'x', null, { dwLower: 1 }] as unknown as LsaHandle[]) {
        assert.equal(status(await client.lpcCall('SpDeleteContext', { hContext: h })), 'SEC_E_INVALID_HANDLE');
      }
    });
  });

  it('answers SEC_E_SECPKG_NOT_FOUND for an unknown package, including names a lookup must not resolve', async () => {
    await withMachine({}, async (machine) => {
      const client = await machine.spawn('client');
      for (const name of ['Kerberos', '__proto__', 'constructor', '']) {
        assert.equal(
          status(await client.sspi.acquireCredentialsHandle({ package: name, credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE })),
          'SEC_E_SECPKG_NOT_FOUND',
        );
        assert.equal(status(await client.sspi.querySecurityPackageInfo(name)), 'SEC_E_SECPKG_NOT_FOUND');
      }
      const info = await client.sspi.querySecurityPackageInfo('example');
      assert.equal(info.info?.Name, 'Example', 'package names are case-insensitive');
    });
  });

  it('answers malformed LPC bodies with a status and keeps serving', async () => {
    await withMachine({}, async (machine) => {
      const rogue = await machine.spawn('client');
      const bodies: Array<[Parameters<typeof rogue.lpcCall>[0], object]> = [
        ['SpAcquireCredentialsHandle', {}],
        ['SpAcquireCredentialsHandle', { pszPackage: 'Example', fCredentialUse: 'x' }],
        ['SpAcquireCredentialsHandle', { pszPackage: 'Example', fCredentialUse: 2, pAuthData: { address: 1, length: 1e9 } }],
        ['SpAcquireCredentialsHandle', { pszPackage: 'Example', fCredentialUse: 2, pAuthData: { address: 42, length: 28 } }],
        ['SpInitLsaModeContext', { hCredential: 1, fContextReq: 0, input: 'nope', outputTypes: [] }],
        ['SpAcceptLsaModeContext', { input: [{ BufferType: 2, pvBuffer: 'x' }], fContextReq: 0 }],
        ['SpAcceptLsaModeContext', { input: new Array(100).fill({ BufferType: 2, pvBuffer: new Uint8Array(1) }), fContextReq: 0 }],
        ['SpQueryContextAttributes', { hContext: 'x' }],
        ['QuerySecurityPackageInfo', { pszPackageName: 7 }],
      ];
      for (const [op, body] of bodies) {
        const reply = await rogue.lpcCall(op, body);
        assert.match(status(reply), /^SEC_E_|^STATUS_/, `${op} ${JSON.stringify(body)}`);
        assert.notEqual(status(reply), 'SEC_E_OK');
      }
      const fine = await rogue.sspi.enumerateSecurityPackages();
      assert.equal(status(fine), 'SEC_E_OK');
      assert.equal((await machine.lsa.stats()).credentials, 0);
    });
  });
});

describe('LPC dispatch into a package that fails', () => {
  it('contains a package that throws: the caller gets SEC_E_INTERNAL_ERROR with the cause, and the LSA and other packages keep serving', async () => {
    await withMachine({ packages: ['example', fixturePackage('thrower')] }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const cred = await client.sspi.acquireCredentialsHandle({ package: 'Thrower', credentialUse: SECPKG_CRED.OUTBOUND });
      const r = await client.sspi.initializeSecurityContext({ credential: cred.credential!, contextReq: 0 });
      assert.equal(status(r), 'SEC_E_INTERNAL_ERROR');
      assert.equal(r.cause?.code, 'PACKAGE_THREW');
      assert.match(r.cause?.message ?? '', /Thrower: SpInitLsaModeContext threw: probe: InitLsaModeContext thrown on purpose/);
      assert.equal(r.context, undefined, 'no handle is left behind');
      assert.ok((await establish(client, server)).ok);
    });
  });

  it('fails a call into a package that never returns within the configured time, and serves the other packages meanwhile', { timeout: 20_000 }, async () => {
    await withMachine({ packages: ['example', fixturePackage('hanger')], packageCallTimeoutMs: 400 }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const cred = await client.sspi.acquireCredentialsHandle({ package: 'Hanger', credentialUse: SECPKG_CRED.OUTBOUND });
      const stuck = client.sspi.initializeSecurityContext({ credential: cred.credential!, contextReq: 0 });
      const meanwhile = await establish(client, server);
      assert.ok(meanwhile.ok, 'the Example package answers while Hanger is stuck');
      const r = await stuck;
      assert.equal(status(r), 'SEC_E_INTERNAL_ERROR');
      assert.equal(r.cause?.code, 'PACKAGE_TIMEOUT');
    });
  });
});

/** An NTSTATUS by name, STATUS_SUCCESS for 0 (statusName spells 0 SEC_E_OK, its SSPI name). */
const nt = (r: unknown): string => {
  const s = (r as { status: number }).status;
  return s === 0 ? 'STATUS_SUCCESS' : statusName(s);
};

describe("LsaLookupAuthenticationPackage and LsaCallAuthenticationPackage (the package's LsaApCallPackageUntrusted)", () => {
  const packages = ['ntlm', 'kerberos', fixturePackage('call-package-rogue')];

  it("looks a package up by name without regard to case (MSV1_0_PACKAGE_NAME is NTLM's), and answers STATUS_NO_SUCH_PACKAGE for any other name", async () => {
    await withMachine({ packages }, async (machine) => {
      const client = await machine.spawn('client');
      const { lsaHandle } = await client.sspi.lsaConnectUntrusted();
      const id = async (name: string): Promise<number | string> => {
        const r = await client.sspi.lsaLookupAuthenticationPackage(lsaHandle!, name);
        return r.authenticationPackage ?? nt(r);
      };
      const ntlm = await id('NTLM');
      assert.equal(typeof ntlm, 'number');
      assert.equal(await id('ntlm'), ntlm);
      assert.equal(await id(MSV1_0_PACKAGE_NAME), ntlm, 'msv1_0 is NTLM');
      assert.notEqual(await id('Kerberos'), ntlm);
      for (const name of ['Schannel', '', '__proto__', 'constructor', 'x'.repeat(300)])
        assert.equal(await id(name), 'STATUS_NO_SUCH_PACKAGE', JSON.stringify(name.slice(0, 20)));
      assert.equal(nt(await client.sspi.lsaLookupAuthenticationPackage(lsaHandle!, 7 as unknown as string)), 'STATUS_INVALID_PARAMETER');
      assert.equal(nt(await client.lpcCall('LsaLookupAuthenticationPackage', { PackageName: 7 })), 'STATUS_INVALID_PARAMETER', 'over LPC too');
      assert.equal(nt(await client.sspi.lsaLookupAuthenticationPackage(12345 as never, 'NTLM')), 'STATUS_INVALID_HANDLE', 'a connection never opened');
    });
  });

  it('answers SEC_E_UNSUPPORTED_FUNCTION from a package without the entry point (as Wine does) and STATUS_NO_SUCH_PACKAGE for an id no package has', async () => {
    await withMachine({ packages }, async (machine) => {
      const client = await machine.spawn('client');
      const { lsaHandle } = await client.sspi.lsaConnectUntrusted();
      const ntlm = (await client.sspi.lsaLookupAuthenticationPackage(lsaHandle!, 'NTLM')).authenticationPackage!;
      const r = await client.sspi.lsaCallAuthenticationPackage(lsaHandle!, ntlm, Uint8Array.from([1, 0, 0, 0]));
      assert.equal(status(r), 'SEC_E_UNSUPPORTED_FUNCTION');
      assert.equal(r.returnBuffer, undefined);
      for (const bad of [9999, 0xffffffff, -1, 1.5])
        assert.equal(nt(await client.sspi.lsaCallAuthenticationPackage(lsaHandle!, bad, new Uint8Array(4))), 'STATUS_NO_SUCH_PACKAGE', String(bad));
      assert.equal(
        nt(await client.lpcCall('LsaApCallPackageUntrusted', { AuthenticationPackage: '3', ProtocolSubmitBuffer: new Uint8Array(4) })),
        'STATUS_NO_SUCH_PACKAGE',
      );
      assert.equal(
        nt(await client.lpcCall('LsaApCallPackageUntrusted', { AuthenticationPackage: ntlm, ProtocolSubmitBuffer: [1, 2] })),
        'STATUS_INVALID_PARAMETER',
      );
      assert.equal(nt(await client.sspi.lsaCallAuthenticationPackage(lsaHandle!, ntlm, 'bytes' as unknown as Uint8Array)), 'STATUS_INVALID_PARAMETER');
    });
  });

  it("hands the package a copy of the submit buffer and the caller's logon from its connection, and returns a copy of what it answered", async () => {
    await withMachine({ packages, trace: true }, async (machine) => {
      const client = await machine.spawn('client', { logonAs: 'alice' });
      const { lsaHandle } = await client.sspi.lsaConnectUntrusted();
      const rogue = (await client.sspi.lsaLookupAuthenticationPackage(lsaHandle!, 'CallRogue')).authenticationPackage!;
      const call = (bytes: number[]) => client.sspi.lsaCallAuthenticationPackage(lsaHandle!, rogue, Uint8Array.from(bytes));

      const echo = await call([0, 0, 0, 0, 0x22, 0, 0, 0xc0, 9]);
      assert.equal(nt(echo), 'STATUS_SUCCESS');
      assert.equal(statusName(echo.protocolStatus!), 'STATUS_ACCESS_DENIED', "the package's ProtocolStatus");
      assert.deepEqual([...echo.returnBuffer!], [0, 0, 0, 0, 0x22, 0, 0, 0xc0, 9]);

      const who = await call([7]);
      assert.equal(nt(who), 'STATUS_SUCCESS');
      assert.equal(
        new DataView(who.returnBuffer!.buffer, who.returnBuffer!.byteOffset).getBigUint64(0, true),
        client.logonId,
        "GetClientInfo names the caller's logon",
      );
      assert.notEqual(client.logonId, 0n);

      assert.deepEqual([...(await call([5])).returnBuffer!], [5, 5, 5, 5], 'what the package answered, though it wiped its buffer after');
      const failed = await call([6]);
      assert.equal(nt(failed), 'STATUS_UNSUCCESSFUL');
      assert.equal(failed.returnBuffer, undefined, 'a failed call returns no buffer');
      assert.equal(failed.protocolStatus, undefined);

      // Traced on both sides: the API call in the process, the package's entry point in the LSA.
      const events = await machine.events();
      const seen = (process: string, call: string, phase: string): boolean => events.some((e) => e.process === process && e.call === call && e.phase === phase);
      assert.ok(seen(client.name, 'LsaLookupAuthenticationPackage', 'return'));
      assert.ok(seen(client.name, 'LsaCallAuthenticationPackage', 'call') && seen(client.name, 'LsaCallAuthenticationPackage', 'return'));
      assert.ok(seen('lsa', 'LsaApCallPackageUntrusted', 'call'), 'the LSA traces the package entry point');
    });
  });

  it(
    'answers STATUS_INTERNAL_ERROR with the cause for a package that throws, answers no NTSTATUS or a return buffer that is no bytes or too large, or never answers; the next call is served',
    { timeout: 30_000 },
    async () => {
      await withMachine({ packages, packageCallTimeoutMs: 500 }, async (machine) => {
        const client = await machine.spawn('client');
        const { lsaHandle } = await client.sspi.lsaConnectUntrusted();
        const rogue = (await client.sspi.lsaLookupAuthenticationPackage(lsaHandle!, 'CallRogue')).authenticationPackage!;
        const call = (kind: number) => client.sspi.lsaCallAuthenticationPackage(lsaHandle!, rogue, Uint8Array.from([kind, 0, 0, 0]));
        const thrown = await call(1);
        assert.equal(nt(thrown), 'STATUS_INTERNAL_ERROR');
        assert.match(thrown.cause?.message ?? '', /thrown on purpose/);
        for (const kind of [2, 3, 4]) {
          const r = await call(kind);
          assert.equal(nt(r), 'STATUS_INTERNAL_ERROR', `answer ${kind}`);
          assert.equal(r.returnBuffer, undefined, `answer ${kind}`);
        }
        const hung = await call(8);
        assert.equal(nt(hung), 'STATUS_INTERNAL_ERROR');
        assert.equal(hung.cause?.code, 'PACKAGE_TIMEOUT');
        assert.equal(nt(await call(0)), 'STATUS_SUCCESS', 'the LSA serves the package again');

        // A fault plan's throw in Kerberos' entry point fails that one call.
        const kerberos = (await client.sspi.lsaLookupAuthenticationPackage(lsaHandle!, 'Kerberos')).authenticationPackage!;
        await machine.lsa.injectFaults({ packageFault: { package: 'Kerberos', entry: 'LsaApCallPackageUntrusted', kind: 'throw', count: 1 } });
        const query = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert.equal(nt(await client.sspi.lsaCallAuthenticationPackage(lsaHandle!, kerberos, query)), 'STATUS_INTERNAL_ERROR');
        assert.deepEqual(await machine.lsa.injectFaults(null), { 'package-throw': 1 });
        const after = await client.sspi.lsaCallAuthenticationPackage(lsaHandle!, kerberos, query);
        assert.equal(nt(after), 'STATUS_SUCCESS');
        assert.equal(statusName(after.protocolStatus!), 'STATUS_NO_SUCH_LOGON_SESSION', 'an anonymous process has no Kerberos logon');
      });
    },
  );
});
