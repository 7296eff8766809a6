// `sspi-emu connect --tcp HOST:PORT`: boots a machine in this OS process, spawns a client
// process, and runs the TCP client app (MIT gss-sample protocol) in it against a server: sspi-emu
// serve --tcp or MIT's gss-server. The handshake's InitializeSecurityContext calls go to the
// emulated LSA; the sealed message and the check of the server's signature run in the client
// process. Exit 0 when the server's signature over the message verified, 3 on a network failure
// (refused, the server hung up, a name that does not resolve), 1 otherwise.

import { SOCKET_APPS } from '../../scenarios/index.js';
import { IDENTITY_OPTIONS, ISOLATION_OPTIONS, PACKAGE_OPTIONS, parseCommand, REALM_OPTIONS, TRACE_OPTIONS, valued } from '../options.js';
import { hostPort, NETWORK_FAILURE_EXIT, runClientApp } from '../socket-options.js';
import { UsageError } from '../usage.js';

export async function connect(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    ...PACKAGE_OPTIONS,
    ...IDENTITY_OPTIONS,
    ...ISOLATION_OPTIONS,
    ...REALM_OPTIONS,
    ...valued('tcp', 'message', 'target', 'timeout'),
    ...TRACE_OPTIONS,
  });
  if (values.tcp === undefined) throw new UsageError('connect needs --tcp HOST:PORT');
  const { host, port } = hostPort(values.tcp);
  const result = await runClientApp(values, 'connect', 10_000, (client, settings) =>
    client.runApp(SOCKET_APPS.tcp.client, { host, port, ...settings, message: values.message ?? 'hello', targetName: values.target ?? `host@${host}` }),
  );
  if (result.networkFailure !== undefined) {
    process.stderr.write(`sspi-emu connect: network failure: ${result.networkFailure}\n`);
    return NETWORK_FAILURE_EXIT;
  }
  process.stdout.write(`${result.statusName}: ${result.detail ?? ''}\n`);
  return result.status === 0 ? 0 : 1;
}
