// `sspi-emu connect --tcp HOST:PORT`: boots a machine in this OS process, spawns a client
// process, and runs the TCP client app (MIT gss-sample protocol) in it against a server: sspi-emu
// serve --tcp or MIT's gss-server. The handshake's InitializeSecurityContext calls go to the
// emulated LSA; the sealed message and the check of the server's signature run in the client
// process. Exit 0 when the server's signature over the message verified, 1 otherwise.

import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Machine, formatTimeline } from '../../machine/index.js';
import { SOCKET_APPS } from '../../scenarios/index.js';
import { asUsage, packageList, positiveInt } from '../options.js';
import { hostPort, userIdentity } from '../socket-options.js';
import { UsageError } from '../usage.js';

export async function connect(argv: string[]): Promise<number> {
  const { values, positionals } = asUsage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        tcp: { type: 'string' },
        package: { type: 'string' },
        load: { type: 'string', multiple: true },
        user: { type: 'string' },
        domain: { type: 'string' },
        password: { type: 'string' },
        message: { type: 'string' },
        target: { type: 'string' },
        timeout: { type: 'string' },
        trace: { type: 'string' },
      },
    }),
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.tcp === undefined) throw new UsageError('connect needs --tcp HOST:PORT');
  const { host, port } = hostPort(values.tcp);
  const identity = userIdentity(values.user, values.domain, values.password);
  const timeoutMs = positiveInt(values.timeout, '--timeout', 10_000);
  const { packages, packageName } = packageList(values.load, values.package ?? 'ntlm');

  const machine = await Machine.boot({ packages, accounts: [], trace: values.trace !== undefined });
  try {
    const client = await machine.spawn('client');
    const result = await client.runApp(SOCKET_APPS.tcp.client, {
      host,
      port,
      package: packageName ?? 'ntlm',
      ...identity,
      message: values.message ?? 'hello',
      targetName: values.target ?? `host@${host}`,
      timeoutMs,
    });
    process.stdout.write(`${result.statusName}: ${result.detail ?? ''}\n`);
    if (values.trace !== undefined) await writeFile(values.trace, formatTimeline(await machine.events()) + '\n');
    return result.status === 0 ? 0 : 1;
  } finally {
    await machine.shutdown();
  }
}
