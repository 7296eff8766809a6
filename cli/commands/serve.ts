// `sspi-emu serve --http|--https|--tcp --port P`: boots a machine in this OS process, spawns a
// server process, and runs the HTTP (Negotiate and NTLM per RFC 4559) or TCP (MIT gss-sample) server app in it,
// so that real clients (curl, MIT gss-client, sspi-emu fetch/connect) authenticate against the
// emulated LSA. The first line of stdout is "listening on HOST:PORT" (--port 0 picks a free
// port); with --https the second says which certificate the server presents (its SHA-256
// fingerprint, for `fetch --fingerprint` or curl --pinnedpubkey users to check), its channel
// bindings and the Extended Protection policy; then one line per HTTP request or TCP connection.
// SIGINT or SIGTERM stops it: the listener closes, every connection closes and its context is
// deleted, and the LSA's count of contexts left is printed. With --watch, a --load module whose
// files change is reloaded in the running LSA (one line on stdout, or why not on stderr): new
// handshakes use the new version.

import { SOCKET_DEFAULTS, type SocketProtocol, type TlsListening } from '../../app-protocols/index.js';
import { Machine } from '../../machine/index.js';
import { PackageWatcher, SocketServer } from '../../scenarios/index.js';
import {
  accountSpecs,
  flags,
  INSPECT_OPTIONS,
  inspection,
  ISOLATION_OPTIONS,
  lsaIsolation,
  PACKAGE_OPTIONS,
  packageList,
  parseCommand,
  REALM_OPTIONS,
  realmSettings,
  repeated,
  TRACE_OPTIONS,
  tracing,
  valued,
  wholeNumber,
  writeTraceFiles,
} from '../options.js';
import { domainJoin, JOIN_OPTIONS } from '../domain-options.js';
import { extendedProtection, serverCertificate } from '../socket-options.js';
import { UsageError } from '../usage.js';
import { RELOAD_LINES, watchedModules } from '../watch.js';

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    ...ISOLATION_OPTIONS,
    ...INSPECT_OPTIONS,
    ...PACKAGE_OPTIONS,
    ...REALM_OPTIONS,
    ...TRACE_OPTIONS,
    ...JOIN_OPTIONS,
    ...valued('port', 'host', 'timeout', 'keep-alive', 'max-connections', 'cert', 'key', 'extended-protection', 'domain'),
    ...repeated('account'),
    ...flags('http', 'https', 'tcp', 'quiet', 'watch'),
  });
  if ([values.http, values.https, values.tcp].filter(Boolean).length !== 1) throw new UsageError('serve needs exactly one of --http, --https and --tcp');
  const protocol: SocketProtocol = values.tcp ? 'tcp' : 'http';
  if (!values.https && (values.cert !== undefined || values.key !== undefined || values['extended-protection'] !== undefined))
    throw new UsageError('--cert, --key and --extended-protection go with --https');
  const tls = values.https
    ? { ...(await serverCertificate(values.cert, values.key)), extendedProtection: extendedProtection(values['extended-protection']) }
    : undefined;
  if (values.port === undefined) throw new UsageError('serve needs --port (0 picks a free one)');
  const port = wholeNumber(values.port, '--port', 0, 0, 65535);
  const accounts = accountSpecs(values.account);
  const timeoutMs = wholeNumber(values.timeout, '--timeout', SOCKET_DEFAULTS.timeoutMs, 1);
  const keepAliveMs = wholeNumber(values['keep-alive'], '--keep-alive', SOCKET_DEFAULTS.keepAliveMs, 1);
  const maxConnections = wholeNumber(values['max-connections'], '--max-connections', SOCKET_DEFAULTS.maxConnections, 1);
  const { packages, packageName } = packageList(values.load, values.package ?? 'ntlm', values.realm);
  // The server app keeps its own socket deadlines (--timeout, --keep-alive); the machine's are the debugger's.
  const { receiveTimeoutMs: _apps, ...debugging } = inspection(values, ['lsa', 'server']);
  const watched = values.watch ? watchedModules(values.load, values.package) : undefined;
  if (values.domain !== undefined && values.dc === undefined) throw new UsageError('--domain goes with --dc and --machine (joining a domain)');
  const join = domainJoin(values);

  const realm = realmSettings(values);
  const machine = await Machine.boot({
    packages,
    ...realm,
    ...join,
    ...(accounts === undefined ? {} : { accounts }),
    trace: tracing(values),
    ...lsaIsolation(values['lsa-isolation']),
    ...debugging,
  });
  let server: SocketServer | undefined;
  let watcher: PackageWatcher | undefined;
  let stopping: Promise<unknown> | undefined;
  const stop = (): void => {
    stopping ??= server?.stop() ?? Promise.resolve();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const proc = await machine.spawn('server');
    server = await SocketServer.start(proc, {
      protocol,
      host: values.host ?? SOCKET_DEFAULTS.host,
      port,
      package: packageName ?? 'ntlm',
      timeoutMs,
      keepAliveMs,
      maxConnections,
      ...(tls === undefined ? {} : { tls }),
    });
    process.stdout.write(`listening on ${server.host}:${server.port}\n`);
    if (server.tls !== undefined) process.stdout.write(`${tlsLine(server.tls, values.cert)}\n`);
    if (watched !== undefined) watcher = new PackageWatcher(watched, (spec) => machine.lsa.reloadPackage(spec), RELOAD_LINES);
    if (!values.quiet) {
      server.on('request', (_record, line) => process.stdout.write(`${line}\n`));
      server.on('connection', (_record, line) => process.stdout.write(`${line}\n`));
    }
    // A signal that came while the server was starting.
    if (stopping !== undefined) stopping = server.stop();
    const result = await Promise.race([server.done, proc.death]);
    const stats = await machine.lsa.stats();
    process.stdout.write(`stopped: ${result.detail ?? result.statusName}; contexts left in the LSA: ${stats.contexts}\n`);
    await writeTraceFiles(machine, values, 'serve', `sspi-emu serve --${values.https ? 'https' : protocol}`);
    return result.status === 0 ? 0 : 1;
  } finally {
    watcher?.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await machine.shutdown();
  }
}

/** The second line of an HTTPS server's output: the certificate it presents, its bindings, the policy. */
function tlsLine(tls: TlsListening, certFile: string | undefined): string {
  const origin = tls.generated ? 'self-signed, generated for this run' : `from ${certFile ?? 'the given file'}`;
  const bindings =
    tls.bindingHash === null
      ? "none (tls-server-end-point is undefined for this certificate's signature algorithm: nothing is checked)"
      : `tls-server-end-point ${tls.bindingHash}`;
  return `certificate SHA-256 ${tls.fingerprint256} (${origin}, ${tls.subject.replace(/\n/g, ', ')}); channel bindings ${bindings}; extended protection ${tls.extendedProtection}`;
}
