// Reloading a package in a running LSA (Machine.lsa.reloadPackage) and a package unloading itself
// (the LSA's UnloadPackage), across the real workers, with the LSA in a worker thread and in an OS
// process of its own: the new version in the old one's place (its own imports read again), the old
// version's handles closed through its table, mapped contexts living on in their processes, a
// server's credential carried over, a version that does not load leaving the old one running.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { SEC_E_INVALID_HANDLE, SEC_E_OK, SEC_E_SECPKG_NOT_FOUND, SEC_I_CONTINUE_NEEDED, statusName } from '../../headers/status.js';
import type { TraceEvent } from '../../ipc/index.js';
import { SspiEmuError } from '../../ipc/index.js';
import { Machine, type AppProcess, type LsaIsolation } from '../../machine/machine.js';
import type { CredHandle, CtxtHandle } from '../../sspi/handles.js';
import { DEFAULT_CLIENT_REQ } from '../../client-proc/app.js';
import { DEFAULT_SERVER_REQ } from '../../server-proc/app.js';
import { ALICE, establish, fixturePackage } from '../helpers/machine.js';
import { ReloadablePackage } from '../helpers/reloadable.js';

/** A sealed message from `from` that `to` opens: the status of each side. */
async function sealAcross(from: AppProcess, fromContext: CtxtHandle, to: AppProcess, toContext: CtxtHandle): Promise<string> {
  const sealed = await from.sspi.encryptMessage(
    fromContext,
    0,
    [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(64) },
      { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(Buffer.from('across a reload')) },
    ],
    0,
  );
  if (sealed.status !== SEC_E_OK) return `EncryptMessage ${statusName(sealed.status)}`;
  const opened = await to.sspi.decryptMessage(toContext, sealed.message, 0);
  return opened.status === SEC_E_OK ? Buffer.from(opened.message[1]!.pvBuffer).toString() : `DecryptMessage ${statusName(opened.status)}`;
}

/** A whole handshake with the credentials given; the two contexts. */
async function handshakeWith(
  client: AppProcess,
  clientCredential: CredHandle,
  server: AppProcess,
  serverCredential: CredHandle,
): Promise<{ client: CtxtHandle; server: CtxtHandle }> {
  let c: CtxtHandle | undefined;
  let s: CtxtHandle | undefined;
  let input: Uint8Array | undefined;
  for (let leg = 0; leg < 4; leg++) {
    const ic = await client.sspi.initializeSecurityContext({
      credential: clientCredential,
      context: c ?? null,
      contextReq: DEFAULT_CLIENT_REQ,
      input: input === undefined ? null : [{ BufferType: SECBUFFER.TOKEN, pvBuffer: input }],
    });
    c = ic.context ?? c;
    const token = ic.output[0]?.pvBuffer;
    if (ic.status === SEC_E_OK && (token === undefined || token.byteLength === 0)) break;
    assert.ok(ic.status === SEC_E_OK || ic.status === SEC_I_CONTINUE_NEEDED, statusName(ic.status));
    const as = await server.sspi.acceptSecurityContext({
      credential: serverCredential,
      context: s ?? null,
      input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token! }],
      contextReq: DEFAULT_SERVER_REQ,
    });
    s = as.context ?? s;
    assert.ok(as.status === SEC_E_OK || as.status === SEC_I_CONTINUE_NEEDED, statusName(as.status));
    if (as.status === SEC_E_OK && ic.status === SEC_E_OK) break;
    input = as.output[0]?.pvBuffer;
  }
  assert.ok(c !== undefined && s !== undefined);
  return { client: c, server: s };
}

async function packageComment(proc: AppProcess, name: string): Promise<string | undefined> {
  return (await proc.sspi.querySecurityPackageInfo(name)).info?.Comment;
}

/** The LSA's events of these calls, in order, as "call: detail". */
function lsaEvents(events: readonly TraceEvent[], calls: readonly string[]): string[] {
  return events.filter((e) => e.process === 'lsa' && calls.includes(e.call) && e.phase !== 'return').map((e) => `${e.call}: ${e.detail ?? ''}`);
}

for (const isolation of ['thread', 'process'] as const satisfies readonly LsaIsolation[]) {
  describe(`reloading a package (LSA in a ${isolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    let pkg: ReloadablePackage;
    let machine: Machine;
    let client: AppProcess;
    let server: AppProcess;

    before(async () => {
      pkg = ReloadablePackage.create('Watched', 'version one');
      machine = await Machine.boot({ packages: ['example', 'ntlm', pkg.entry], lsaIsolation: isolation });
      client = await machine.spawn('client', { logonAs: 'alice' });
      server = await machine.spawn('server');
    });
    after(async () => {
      await machine.shutdown();
      pkg.remove();
    });

    it('puts the new version in the old one’s place, its own imports read again, and closes or carries over what the old one held', async () => {
      const baseline = await machine.lsa.stats();
      const idBefore = (await machine.lsa.packages()).loaded.find((p) => p.name === 'Watched')!.id;
      const mapped = await establish(client, server, { package: 'Watched' });
      assert.ok(mapped.ok, JSON.stringify(mapped.steps));
      // A client context in the middle of its handshake.
      const halfway = await client.sspi.initializeSecurityContext({ credential: mapped.clientCredential, contextReq: 0, targetName: 'HTTP/x' });
      assert.equal(statusName(halfway.status), 'SEC_I_CONTINUE_NEEDED');

      pkg.setComment('version two');
      const report = await machine.lsa.reloadPackage('Watched');
      assert.equal(report.version, 2);
      assert.match(report.module, /index\.js\?v=2$/);
      assert.deepEqual(report.loaded, [{ name: 'Watched', id: idBefore }], 'the package keeps its id');
      assert.deepEqual(
        report.unloaded.map(({ name, version, contexts, credentials, carried, shutdown }) => ({ name, version, contexts, credentials, carried, shutdown })),
        // Contexts: the mapped pair and the half-made one; credentials: alice's explicit one closed, the server's inbound one carried over.
        [{ name: 'Watched', version: 1, contexts: 3, credentials: 1, carried: 1, shutdown: 'SEC_E_OK' }],
      );
      assert.equal(await packageComment(client, 'Watched'), 'version two', 'the file the entry imports was read again');
      const listed = (await machine.lsa.packages()).loaded.find((p) => p.name === 'Watched')!;
      assert.equal(listed.version, 2);

      // The old version's handles in the LSA: SEC_E_INVALID_HANDLE; the first free or delete SEC_E_OK.
      const onward = await client.sspi.initializeSecurityContext({
        credential: mapped.clientCredential,
        context: halfway.context!,
        contextReq: 0,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(8) }],
      });
      assert.equal(statusName(onward.status), 'SEC_E_INVALID_HANDLE');
      const again = await client.sspi.initializeSecurityContext({ credential: mapped.clientCredential, contextReq: 0 });
      assert.equal(statusName(again.status), 'SEC_E_INVALID_HANDLE', 'an explicit credential cannot be acquired again');
      assert.equal(statusName((await client.sspi.deleteSecurityContext(halfway.context!)).status), 'SEC_E_OK');
      assert.equal(statusName((await client.sspi.freeCredentialsHandle(mapped.clientCredential)).status), 'SEC_E_OK');
      assert.equal(statusName((await client.sspi.freeCredentialsHandle(mapped.clientCredential)).status), 'SEC_E_INVALID_HANDLE');

      // The mapped contexts live on in their processes, with the old version's user-mode half.
      assert.equal(await sealAcross(client, mapped.clientContext!, server, mapped.serverContext!), 'across a reload');
      const oldInfo = await client.sspi.queryContextAttributes(mapped.clientContext!, SECPKG_ATTR.PACKAGE_INFO);
      assert.equal(oldInfo.buffer?.PackageInfo.Comment, 'version one');

      // The server's inbound credential was acquired again from the new version, under the same handle.
      const out = await client.sspi.acquireCredentialsHandle({ package: 'Watched', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      const fresh = await handshakeWith(client, out.credential!, server, mapped.serverCredential);
      const newInfo = await client.sspi.queryContextAttributes(fresh.client, SECPKG_ATTR.PACKAGE_INFO);
      assert.equal(newInfo.buffer?.PackageInfo.Comment, 'version two', 'the new user-mode half, in the same process');
      assert.equal(await sealAcross(server, fresh.server, client, fresh.client), 'across a reload');
      const userMode = (await client.stats()).userMode.spUserModeInitialize;
      assert.deepEqual(Object.keys(userMode).sort(), [`file://${pkg.entry}`, `file://${pkg.entry}?v=2`]);

      // The trace: the new version told of the logon, then loaded; the old one shut down.
      const events = lsaEvents(await machine.events(), ['SpAcceptCredentials', 'PackageLoaded', 'SpShutdown', 'PackageUnloaded']);
      // Alice's logon was told to the package twice: when the client process logged on, and at the reload.
      const told = events.map((e) => e.startsWith('SpAcceptCredentials: Watched')).lastIndexOf(true);
      assert.ok(told > 0);
      const reload = events.slice(told);
      assert.deepEqual(
        reload.map((e) => e.split(':')[0]),
        ['SpAcceptCredentials', 'PackageLoaded', 'SpShutdown', 'PackageUnloaded'],
        events.join('\n'),
      );
      assert.match(reload[1]!, /Watched v2 \(package id \d+\) from .*\?v=2: replaces v1; 1 credential carried over/);
      assert.match(reload[3]!, /Watched v1 \(package id \d+\): 3 contexts and 1 credential closed, 1 credential carried over; SpShutdown SEC_E_OK/);

      // Everything deleted and freed: the LSA holds what it held before.
      // The mapped contexts of the old version: their user-mode half goes, and their LSA half was closed by the unload.
      for (const ctx of [mapped.clientContext!, fresh.client]) assert.equal((await client.sspi.deleteSecurityContext(ctx)).status, SEC_E_OK);
      for (const ctx of [mapped.serverContext!, fresh.server]) assert.equal((await server.sspi.deleteSecurityContext(ctx)).status, SEC_E_OK);
      assert.equal((await client.sspi.freeCredentialsHandle(out.credential!)).status, SEC_E_OK);
      assert.equal((await server.sspi.freeCredentialsHandle(mapped.serverCredential)).status, SEC_E_OK);
      const now = await machine.lsa.stats();
      assert.deepEqual([now.contexts, now.credentials], [baseline.contexts, baseline.credentials]);
    });

    it('keeps the old version running when the new one does not load, and says why; a version that loads again replaces it', async () => {
      const before = (await machine.lsa.packages()).loaded.find((p) => p.name === 'Watched')!.version;
      pkg.breakSyntax();
      await assert.rejects(machine.lsa.reloadPackage(pkg.entry), (error: unknown) => {
        assert.ok(error instanceof SspiEmuError);
        assert.equal(error.code, 'PACKAGE_LOAD_FAILED');
        assert.match(error.message, new RegExp(`package module ${pkg.entry} failed to reload at import: SyntaxError: .*; version ${before} keeps running`));
        return true;
      });
      assert.equal(await packageComment(client, 'Watched'), 'version two');
      pkg.write('comment.js', 'export const NOTHING = 1;\n');
      await assert.rejects(machine.lsa.reloadPackage('watched'), /failed to reload at import: SyntaxError: .*COMMENT/);
      pkg.write('index.js', 'export const NotAPackage = true;\n');
      await assert.rejects(machine.lsa.reloadPackage('Watched'), /failed to reload at SpLsaModeInitialize: not a package/);
      const out = await establish(client, server, { package: 'Watched' });
      assert.ok(out.ok, 'the old version still serves');
      const events = await machine.events();
      assert.equal(lsaEvents(events, ['PackageReloadFailed']).length, 3);

      const restored = ReloadablePackage.create('Watched', 'version five');
      try {
        pkg.write('index.js', (await import('node:fs')).readFileSync(restored.entry, 'utf8'));
        pkg.setComment('version five');
      } finally {
        restored.remove();
      }
      const report = await machine.lsa.reloadPackage('Watched');
      assert.equal(report.version, before + 4, 'a version number for each attempt');
      assert.equal(await packageComment(client, 'Watched'), 'version five');
      for (const ctx of [out.clientContext!]) await client.sspi.deleteSecurityContext(ctx);
      await server.sspi.deleteSecurityContext(out.serverContext!);
      await client.sspi.freeCredentialsHandle(out.clientCredential);
      await server.sspi.freeCredentialsHandle(out.serverCredential);
    });

    it('refuses a name it does not know, with PACKAGE_NOT_LOADED', async () => {
      await assert.rejects(machine.lsa.reloadPackage('Nobody'), (error: unknown) => {
        assert.ok(error instanceof SspiEmuError);
        assert.equal(error.code, 'PACKAGE_NOT_LOADED');
        assert.match(
          error.message,
          /cannot reload "Nobody": it names no loaded package and no entry of the Security Packages list \(loaded: Example, NTLM, Watched/,
        );
        return true;
      });
    });
  });
}

describe('a reloaded package after restartLsa', () => {
  it('loads at the version after the last one, so that a process that lived through the restart imports the code on disk now', async () => {
    const pkg = ReloadablePackage.create('Watched', 'version one');
    const machine = await Machine.boot({ packages: ['example', pkg.entry], trace: false });
    try {
      const client = await machine.spawn('client');
      const server = await machine.spawn('server');
      pkg.setComment('version two');
      await machine.lsa.reloadPackage('Watched');
      const before = await establish(client, server, { package: 'Watched' });
      assert.ok(before.ok);
      assert.equal((await client.sspi.queryContextAttributes(before.clientContext!, SECPKG_ATTR.PACKAGE_INFO)).buffer?.PackageInfo.Comment, 'version two');

      await machine.kill(machine.lsa);
      pkg.setComment('version three');
      await machine.restartLsa();
      const listed = (await machine.lsa.packages()).loaded.find((p) => p.name === 'Watched')!;
      assert.equal(listed.version, 3);
      assert.match(listed.module, /index\.js\?v=3$/);
      const after = await establish(client, server, { package: 'Watched' });
      assert.ok(after.ok, JSON.stringify(after.steps));
      const info = await client.sspi.queryContextAttributes(after.clientContext!, SECPKG_ATTR.PACKAGE_INFO);
      assert.equal(info.buffer?.PackageInfo.Comment, 'version three', 'the surviving process runs the user-mode half of the code the new LSA loaded');
      assert.equal((await machine.lsa.reloadPackage('Watched')).version, 4, 'and reloads go on from there');
    } finally {
      await machine.shutdown();
      pkg.remove();
    }
  });
});

describe('a package that calls UnloadPackage', () => {
  it('is gone once the call that asked returns: its handles closed, SpShutdown; reloadPackage loads it again at its id', async () => {
    const machine = await Machine.boot({ packages: ['example', fixturePackage('self-unloader')] });
    try {
      const client = await machine.spawn('client');
      const id = (await machine.lsa.packages()).loaded.find((p) => p.name === 'SelfUnloader')!.id;
      const kept = await client.sspi.acquireCredentialsHandle({ package: 'SelfUnloader', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      assert.equal(kept.status, SEC_E_OK);
      const asking = await client.sspi.acquireCredentialsHandle({
        package: 'SelfUnloader',
        principal: 'unload me',
        credentialUse: SECPKG_CRED.OUTBOUND,
        authData: ALICE,
      });
      assert.equal(statusName(asking.status), 'SEC_E_OK', 'the call that asked is answered');
      // Reloads and unloads run one at a time: this one waits for the unload to finish.
      const report = await machine.lsa.reloadPackage(fixturePackage('self-unloader'));
      assert.deepEqual(report.loaded, [{ name: 'SelfUnloader', id }]);
      assert.deepEqual(report.unloaded, [], 'nothing of it was loaded');
      const events = lsaEvents(await machine.events(), ['UnloadPackage', 'SpFreeCredentialsHandle', 'SpShutdown', 'PackageUnloaded', 'PackageLoaded']);
      assert.deepEqual(
        events.map((e) => e.split(':')[0]),
        ['UnloadPackage', 'SpFreeCredentialsHandle', 'SpFreeCredentialsHandle', 'SpShutdown', 'PackageUnloaded', 'PackageLoaded'],
        events.join('\n'),
      );
      assert.match(events[4]!, /SelfUnloader v1 \(package id \d+\): 0 contexts and 2 credentials closed; SpShutdown SEC_E_OK/);
      // Its handles from before answer SEC_E_INVALID_HANDLE to the new version; freeing them SEC_E_OK.
      const onward = await client.sspi.initializeSecurityContext({ credential: kept.credential!, contextReq: 0 });
      assert.equal(onward.status, SEC_E_INVALID_HANDLE);
      assert.equal((await client.sspi.freeCredentialsHandle(kept.credential!)).status, SEC_E_OK);
      assert.equal((await client.sspi.freeCredentialsHandle(asking.credential!)).status, SEC_E_OK);
      const fresh = await client.sspi.acquireCredentialsHandle({ package: 'SelfUnloader', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      assert.equal(fresh.status, SEC_E_OK, 'loaded again');
      await client.sspi.freeCredentialsHandle(fresh.credential!);
    } finally {
      await machine.shutdown();
    }
  });

  it('answers SEC_E_SECPKG_NOT_FOUND for the package from then on', async () => {
    const machine = await Machine.boot({ packages: ['example', fixturePackage('self-unloader')], trace: false });
    try {
      const client = await machine.spawn('client');
      const asking = await client.sspi.acquireCredentialsHandle({
        package: 'SelfUnloader',
        principal: 'unload me',
        credentialUse: SECPKG_CRED.OUTBOUND,
        authData: ALICE,
      });
      assert.equal(asking.status, SEC_E_OK);
      // The unload began when the call returned: the package list no longer has it.
      const listed = await client.sspi.querySecurityPackageInfo('SelfUnloader');
      assert.equal(listed.status, SEC_E_SECPKG_NOT_FOUND);
      assert.deepEqual(
        (await machine.lsa.packages()).loaded.map((p) => p.name),
        ['Example'],
      );
    } finally {
      await machine.shutdown();
    }
  });
});
