// The suite against one loaded package, on a machine of its own: a client and a server process,
// every channel tapped, the account's password made for the run. First what the package says
// (SecPkgInfo), then a handshake and what it delivered, the messages, the refusals, deletions, the
// default applications; last what the run left behind (the LSA's handles, the password in the
// taps, the statuses and faults in the trace).

import { randomBytes } from 'node:crypto';
import {
  ASC_RET,
  ISC_RET,
  SECPKG_ATTR,
  SECPKG_FLAG,
  SEC_E_INTERNAL_ERROR,
  SEC_E_INVALID_HANDLE,
  SEC_E_LOGON_DENIED,
  SEC_E_OK,
  statusName,
  type SecWinntAuthIdentity,
} from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import type { Account } from '../lsa/index.js';
import type { AppProcess, Machine } from '../machine/index.js';
import type { CredHandle, CtxtHandle } from '../sspi/index.js';
import { CHECKS, type CheckName } from './catalogue.js';
import { Driver, type Handshake } from './driver.js';
import { fieldProblems, nameProblems, type LoadedInfo } from './info.js';
import { messageChecks, type Pair } from './messages.js';
import { Results, type CheckResult } from './results.js';
import { leaks } from './secrets.js';
import { faults, undocumentedAnswers } from './statuses.js';

export interface PackageCheck {
  /** The package's SecPkgInfo Name, or the module's spec when it did not load. */
  name: string;
  module: string;
  ok: boolean;
  checks: CheckResult[];
}

/** The checks on messages and deletions: they need a pair of contexts mapped into the processes. */
const NEEDS_MAPPING: readonly CheckName[] = [
  'info.integrity',
  'info.privacy',
  'sign.round-trip',
  'sign.detects-alteration',
  'sign.detects-replay',
  'sign.detects-reordering',
  'seal.round-trip',
  'seal.detects-alteration',
  'seal.detects-replay',
  'seal.detects-reordering',
];
/** The checks on what a completed handshake delivered. */
const NEEDS_HANDSHAKE: readonly CheckName[] = [
  'handshake.mapped-context',
  'user-mode.initialized',
  'info.mutual-auth',
  'info.multi-leg',
  'attributes.sizes',
  'attributes.names',
  'handles.delete-twice',
  'apps.default',
];

const MESSAGE = Uint8Array.from(Buffer.from('sspi-emu check: a message worth protecting'));
/** The token buffers' size when the package gives no SECPKG_ATTR_SIZES: room to spare, so that the message checks still say what they see. */
const UNSIZED_BYTES = 1024;

/** Handles the suite made: deleted and freed whatever happens, before what is left is judged. */
interface Made {
  contexts: Array<[AppProcess, CtxtHandle]>;
  credentials: Array<[AppProcess, CredHandle]>;
}

export async function checkPackage(machine: Machine, info: LoadedInfo, others: readonly LoadedInfo[], account: Account): Promise<PackageCheck> {
  const r = new Results();
  r.pass('load', `loaded from ${info.module} as package id ${info.id}`);
  const driver = new Driver(info.name);
  const made: Made = { contexts: [], credentials: [] };
  const tokens: number[] = [];
  const claims = (flag: number): boolean => (info.fCapabilities & flag) !== 0;
  let stage: CheckName = 'info.name';
  try {
    machine.tap(true);
    const client = await machine.spawn('client', { name: 'client' });
    const server = await machine.spawn('server', { name: 'server' });
    const baseline = await machine.lsa.stats();

    const queried = await driver.packageInfo(client);
    const nameIssues = nameProblems(info.name);
    if (queried.status !== SEC_E_OK) nameIssues.push(`QuerySecurityPackageInfo("${info.name}") answered ${statusName(queried.status)}`);
    else if (queried.info?.Name !== info.name) nameIssues.push(`QuerySecurityPackageInfo("${info.name}") answered the name "${queried.info?.Name}"`);
    r.judge('info.name', nameIssues, `Name "${info.name}", found by QuerySecurityPackageInfo`);
    stage = 'info.fields';
    r.judge(
      'info.fields',
      fieldProblems(info, others),
      `wVersion 1, wRPCID ${info.wRPCID === 0xffff ? 'SECPKG_ID_NONE' : info.wRPCID}, cbMaxToken ${info.cbMaxToken}, Comment "${info.comment}"`,
    );

    // The credentials of every handshake: the client's explicit ones, the server's own.
    stage = 'handshake.terminates';
    const identity: SecWinntAuthIdentity = { User: account.user, Domain: account.domain, Password: account.password };
    const clientCred = await driver.acquire(client, 'outbound', identity);
    const serverCred = await driver.acquire(server, 'inbound');
    if (clientCred.credential !== undefined) made.credentials.push([client, clientCred.credential]);
    if (serverCred.credential !== undefined) made.credentials.push([server, serverCred.credential]);
    const handshake = async (cred: CredHandle): Promise<Handshake> => {
      const h = await driver.handshake(client, cred, server, serverCred.credential!);
      if (h.client !== undefined) made.contexts.push([client, h.client]);
      if (h.server !== undefined) made.contexts.push([server, h.server]);
      tokens.push(...h.tokens);
      return h;
    };

    let h1: Handshake | undefined;
    if (clientCred.credential === undefined || serverCred.credential === undefined)
      r.fail(
        'handshake.terminates',
        `AcquireCredentialsHandle answered ${statusName(clientCred.status)} (client, explicit credentials) and ${statusName(serverCred.status)} (server, inbound)`,
      );
    else {
      const before = await Promise.all([client.stats(), server.stats()]);
      h1 = await handshake(clientCred.credential);
      const after = await Promise.all([client.stats(), server.stats()]);
      if (h1.ok) r.pass('handshake.terminates', `${h1.tokens.length} tokens (${h1.tokens.join(', ')} bytes), both sides SEC_E_OK`);
      else r.fail('handshake.terminates', `${h1.stop!.where}: ${h1.stop!.detail}`);
      if (h1.ok) {
        stage = 'handshake.mapped-context';
        const sides = ['client', 'server'] as const;
        const unmapped = sides.filter((_, i) => after[i]!.userMode.spInitUserModeContext <= before[i]!.userMode.spInitUserModeContext);
        r.judge(
          'handshake.mapped-context',
          unmapped.map(
            (side) =>
              `the LSA delivered no context to the ${side} process: its last ${side === 'client' ? 'SpInitLsaModeContext' : 'SpAcceptLsaModeContext'} did not return MappedContext = TRUE with ContextData`,
          ),
          'both processes received ContextData and ran SpInitUserModeContext',
        );
        stage = 'user-mode.initialized';
        if (unmapped.length === sides.length) r.skip('user-mode.initialized', 'not run: no context was mapped into either process');
        else {
          const problems: string[] = [];
          const mappedAs = new Set<string>();
          for (const [i, side] of sides.entries()) {
            if (unmapped.includes(side)) continue;
            const user = after[i]!.userMode;
            // A package may map another package's context (Negotiate maps its mechanism's:
            // SpContextResult.MappedPackage): then that package's user-mode half is the one loaded.
            const others = user.loaded.filter((name) => name !== info.name && !before[i]!.userMode.loaded.includes(name));
            const name = !user.loaded.includes(info.name) && others.length === 1 ? others[0]! : info.name;
            if (name !== info.name) mappedAs.add(name);
            if (!user.loaded.includes(name)) problems.push(`the ${side} process has no user-mode table of ${name} loaded`);
            if ((user.spInstanceInit[name] ?? 0) < 1) problems.push(`SpInstanceInit never ran for ${name} in the ${side} process`);
          }
          const as = mappedAs.size === 0 ? '' : ` (of ${[...mappedAs].join(', ')}, whose context ${info.name} mapped)`;
          r.judge('user-mode.initialized', problems, `SpUserModeInitialize, SpInstanceInit and SpInitUserModeContext ran in both processes${as}`);
        }
        stage = 'info.mutual-auth';
        const granted = (h1.clientAttr & ISC_RET.MUTUAL_AUTH) !== 0;
        const mutualIssues =
          claims(SECPKG_FLAG.MUTUAL_AUTH) === granted
            ? []
            : granted
              ? ['the client context grants ISC_RET_MUTUAL_AUTH but SecPkgInfo lacks SECPKG_FLAG_MUTUAL_AUTH']
              : ['SecPkgInfo claims SECPKG_FLAG_MUTUAL_AUTH but the client context, asked for ISC_REQ_MUTUAL_AUTH, did not grant ISC_RET_MUTUAL_AUTH'];
        r.judge('info.mutual-auth', mutualIssues, granted ? 'claimed, and granted when asked' : 'not claimed, and not granted');
        if (!claims(SECPKG_FLAG.MULTI_REQUIRED)) r.skip('info.multi-leg', 'the package does not claim SECPKG_FLAG_MULTI_REQUIRED');
        else
          r.judge(
            'info.multi-leg',
            h1.tokens.length > 1 ? [] : ['SecPkgInfo claims SECPKG_FLAG_MULTI_REQUIRED but the handshake took one token'],
            `claimed, and the handshake took ${h1.tokens.length} tokens`,
          );
      }
    }

    if (h1?.ok === true) {
      const first: Pair = { client, server, handshake: h1 };
      const mapped = r.passed('handshake.mapped-context');
      // Sizes and names on both sides: from the user-mode half of a mapped context, from the LSA's otherwise.
      stage = 'attributes.sizes';
      const sizes = await Promise.all([driver.query(client, h1.client!, SECPKG_ATTR.SIZES), driver.query(server, h1.server!, SECPKG_ATTR.SIZES)]);
      const sizeIssues = sizes.flatMap((q, i) =>
        q.status === SEC_E_OK ? [] : [`QueryContextAttributes(SECPKG_ATTR_SIZES) answered ${statusName(q.status)} in the ${i === 0 ? 'client' : 'server'}`],
      );
      const got = sizeIssues.length === 0 ? sizes[0]!.buffer : undefined;
      r.judge(
        'attributes.sizes',
        sizeIssues,
        `cbMaxToken ${got?.cbMaxToken}, cbMaxSignature ${got?.cbMaxSignature}, cbBlockSize ${got?.cbBlockSize}, cbSecurityTrailer ${got?.cbSecurityTrailer}`,
      );
      stage = 'attributes.names';
      const names = await Promise.all([driver.query(client, h1.client!, SECPKG_ATTR.NAMES), driver.query(server, h1.server!, SECPKG_ATTR.NAMES)]);
      const namesIssues: string[] = [];
      for (const [i, q] of names.entries()) {
        const side = i === 0 ? 'client' : 'server';
        const named = String(q.buffer?.sUserName ?? '');
        if (q.status !== SEC_E_OK) namesIssues.push(`QueryContextAttributes(SECPKG_ATTR_NAMES) answered ${statusName(q.status)} in the ${side}`);
        else if (!named.toLowerCase().includes(account.user))
          namesIssues.push(`the ${side}'s SECPKG_ATTR_NAMES names "${named}", not the account ${account.user}`);
      }
      r.judge('attributes.names', namesIssues, `both sides name "${String(names[1]!.buffer?.sUserName)}"`);

      if (mapped) {
        await messageChecks({
          driver,
          results: r,
          first,
          fresh: async (check) => {
            stage = check;
            const h = await handshake(clientCred.credential!);
            if (h.ok) return { client, server, handshake: h };
            r.fail(check, `the handshake for this check failed: ${h.stop?.where}: ${h.stop?.detail}`);
            return undefined;
          },
          capabilities: info.fCapabilities,
          signatureBytes: got?.cbMaxSignature ?? UNSIZED_BYTES,
          trailerBytes: got?.cbSecurityTrailer ?? UNSIZED_BYTES,
          sizedBy: got === undefined ? `a ${UNSIZED_BYTES}-byte buffer (no SECPKG_ATTR_SIZES)` : 'SECPKG_ATTR_SIZES',
          message: MESSAGE,
          replayGranted: (h1.serverAttr & ASC_RET.REPLAY_DETECT) !== 0,
          sequenceGranted: (h1.serverAttr & ASC_RET.SEQUENCE_DETECT) !== 0,
        });
      } else for (const name of NEEDS_MAPPING) r.skip(name, 'not run: the contexts were not mapped into the processes (handshake.mapped-context)');

      // Deleting twice, on the first pair; a deleted context signs nothing.
      stage = 'handles.delete-twice';
      const deleteIssues: string[] = [];
      for (const [proc, ctx, side] of [
        [client, h1.client!, 'client'],
        [server, h1.server!, 'server'],
      ] as const) {
        const once = await driver.delete(proc, ctx);
        const twice = await driver.delete(proc, ctx);
        if (once !== SEC_E_OK) deleteIssues.push(`the ${side}'s DeleteSecurityContext answered ${statusName(once)}`);
        if (twice !== SEC_E_OK) deleteIssues.push(`the ${side}'s second DeleteSecurityContext answered ${statusName(twice)}, not SEC_E_OK`);
        const after = await driver.sign(proc, ctx, MESSAGE, got?.cbMaxSignature ?? UNSIZED_BYTES);
        if (after.status !== SEC_E_INVALID_HANDLE) deleteIssues.push(`the ${side}'s deleted context answered MakeSignature with ${statusName(after.status)}`);
      }
      r.judge('handles.delete-twice', deleteIssues, 'SEC_E_OK twice on each side, then SEC_E_INVALID_HANDLE to MakeSignature');
    } else {
      for (const name of [...NEEDS_HANDSHAKE, ...NEEDS_MAPPING]) r.skip(name, 'not run: handshake.terminates failed');
    }

    // Refusals: a wrong password, and an account that does not exist.
    for (const [name, user, password] of [
      ['logon.wrong-password', account.user, `Wrong-${randomBytes(12).toString('base64url')}`],
      ['logon.unknown-user', `nobody-${randomBytes(4).toString('hex')}`, account.password],
    ] as const) {
      stage = name;
      if (serverCred.credential === undefined) {
        r.skip(name, 'not run: the server has no credential');
        continue;
      }
      const cred = await driver.acquire(client, 'outbound', { User: user, Domain: account.domain, Password: password });
      if (cred.credential === undefined) {
        r.judge(
          name,
          cred.status === SEC_E_LOGON_DENIED ? [] : [`AcquireCredentialsHandle answered ${statusName(cred.status)}`],
          'AcquireCredentialsHandle: SEC_E_LOGON_DENIED',
        );
        continue;
      }
      made.credentials.push([client, cred.credential]);
      const h = await handshake(cred.credential);
      const stop = h.stop;
      if (h.ok || stop === undefined) r.fail(name, 'the handshake succeeded');
      else
        r.judge(
          name,
          stop.status === SEC_E_LOGON_DENIED ? [] : [`${stop.where} answered ${stop.status === null ? stop.detail : statusName(stop.status)}`],
          `${stop.where}: SEC_E_LOGON_DENIED`,
        );
    }

    stage = 'info.max-token';
    const over = tokens.filter((n) => n > info.cbMaxToken);
    if (tokens.length === 0) r.skip('info.max-token', 'not run: no handshake sent a token');
    else
      r.judge(
        'info.max-token',
        over.length === 0
          ? []
          : [`${over.length} of ${tokens.length} tokens were longer than cbMaxToken ${info.cbMaxToken} (the longest ${Math.max(...over)} bytes)`],
        `${tokens.length} tokens, the longest ${Math.max(...tokens)} of cbMaxToken ${info.cbMaxToken} bytes`,
      );

    // The default applications, as `sspi-emu run` drives them, in the same two processes.
    stage = 'apps.default';
    if (h1?.ok === true) {
      const messages = claims(SECPKG_FLAG.INTEGRITY) && claims(SECPKG_FLAG.PRIVACY) ? 2 : 0;
      const listen = 'sspi-emu-check';
      const timeouts = { receiveTimeoutMs: 10_000 };
      const serving = server.runApp(null, { name: listen, package: info.name, ...timeouts });
      const ran = await client.runApp(null, {
        server: listen,
        package: info.name,
        user: account.user,
        domain: account.domain,
        password: account.password,
        messages,
        ...timeouts,
      });
      const served = await serving;
      const problems: string[] = [];
      if (ran.status !== SEC_E_OK) problems.push(`the client app: ${ran.statusName}${ran.detail === undefined ? '' : ` (${ran.detail})`}`);
      if (served.status !== SEC_E_OK) problems.push(`the server app: ${served.statusName}${served.detail === undefined ? '' : ` (${served.detail})`}`);
      r.judge(
        'apps.default',
        problems,
        messages === 0
          ? 'a handshake and SECPKG_ATTR_NAMES (no messages: the package does not claim both SECPKG_FLAG_INTEGRITY and SECPKG_FLAG_PRIVACY)'
          : `a handshake, SECPKG_ATTR_NAMES and SIZES, ${messages} sealed and ${messages} signed messages each way`,
      );
    }

    // Every context deleted, then every credential freed twice; a freed credential starts nothing.
    stage = 'handles.free-credentials';
    for (const [proc, ctx] of made.contexts.splice(0)) await driver.delete(proc, ctx);
    const freeIssues: string[] = [];
    for (const [proc, cred] of made.credentials.splice(0)) {
      const once = await driver.free(proc, cred);
      const twice = await driver.free(proc, cred);
      if (once !== SEC_E_OK) freeIssues.push(`${proc.name}: FreeCredentialsHandle answered ${statusName(once)}`);
      if (twice !== SEC_E_INVALID_HANDLE)
        freeIssues.push(`${proc.name}: the second FreeCredentialsHandle answered ${statusName(twice)}, not SEC_E_INVALID_HANDLE`);
    }
    if (clientCred.credential === undefined) r.skip('handles.free-credentials', 'not run: the client has no credential');
    else {
      const again = await client.sspi.initializeSecurityContext({ credential: clientCred.credential, contextReq: 0 });
      if (again.context !== undefined) await driver.delete(client, again.context);
      if (again.status !== SEC_E_INVALID_HANDLE) freeIssues.push(`InitializeSecurityContext with a freed credential answered ${statusName(again.status)}`);
      r.judge('handles.free-credentials', freeIssues, 'SEC_E_OK, then SEC_E_INVALID_HANDLE to a second free and to InitializeSecurityContext');
    }

    stage = 'lsa.baseline';
    const end = await machine.lsa.stats();
    const held = await Promise.all([client.stats(), server.stats()]);
    const leftIssues: string[] = [];
    for (const key of ['credentials', 'contexts', 'logonSessions'] as const)
      if (end[key] !== baseline[key]) leftIssues.push(`the LSA holds ${end[key]} ${key} (${baseline[key]} before the checks)`);
    for (const s of held)
      if (s.handles.credentials !== 0 || s.handles.contexts !== 0)
        leftIssues.push(`the ${s.name} process holds ${s.handles.credentials} credentials and ${s.handles.contexts} contexts`);
    r.judge(
      'lsa.baseline',
      leftIssues,
      `${baseline.credentials} credentials, ${baseline.contexts} contexts, ${baseline.logonSessions} logon sessions, as before`,
    );

    stage = 'secrets.channels';
    const taps = await machine.taps();
    machine.tap(false);
    const leaked = leaks(taps, account.password);
    if (taps.length === 0) r.fail('secrets.channels', 'the tap saw no traffic, so nothing was scanned');
    else
      r.judge(
        'secrets.channels',
        leaked.length <= 3 ? leaked : [...leaked.slice(0, 3), `${leaked.length - 3} more`],
        `the password was in none of ${taps.length} messages into the processes or between them`,
      );

    const events = await machine.events();
    stage = 'statuses.documented';
    const answers = undocumentedAnswers(events);
    r.judge('statuses.documented', answers.undocumented, `${answers.judged} answers, each on its function's list`);
    stage = 'package.exceptions';
    const causes = driver.answers.flatMap((a) =>
      a.cause === undefined || a.status !== SEC_E_INTERNAL_ERROR ? [] : [{ api: a.api, process: a.process, cause: a.cause }],
    );
    const thrown = faults(events, causes);
    r.judge(
      'package.exceptions',
      thrown.length <= 3 ? thrown : [...thrown.slice(0, 3), `${thrown.length - 3} more`],
      'no entry point threw, rejected or timed out',
    );
  } catch (error) {
    // A process died or stopped answering: the check under way failed, the rest did not run.
    r.fail(stage, `the suite stopped here: ${describeError(error)}`);
    for (const c of CHECKS) r.skip(c.name, `not run: the suite stopped at ${stage}`);
  }
  const checks = r.list();
  return { name: info.name, module: info.module, ok: checks.every((c) => c.outcome !== 'fail'), checks };
}
