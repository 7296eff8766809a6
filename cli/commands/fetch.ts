// `sspi-emu fetch URL`: boots a machine in this OS process, spawns a client process, and runs the
// HTTP client app in it: the NTLM handshake (NEGOTIATE with the first request, AUTHENTICATE on
// the same connection after the server's CHALLENGE) with InitializeSecurityContext in the emulated
// LSA, against any HTTP server that asks for NTLM (sspi-emu serve --http, IIS, ...). Prints the
// status line, the headers with -i, and the body; exit 0 on a 2xx answer, 1 otherwise.

import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { HttpFetchData } from '../../client-proc/index.js';
import { Machine, formatTimeline } from '../../machine/index.js';
import { SOCKET_APPS } from '../../scenarios/index.js';
import { asUsage, packageList, positiveInt } from '../options.js';
import { userIdentity } from '../socket-options.js';
import { UsageError } from '../usage.js';

export async function fetch(argv: string[]): Promise<number> {
  const { values, positionals } = asUsage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        package: { type: 'string' },
        load: { type: 'string', multiple: true },
        user: { type: 'string' },
        domain: { type: 'string' },
        password: { type: 'string' },
        include: { type: 'boolean', short: 'i' },
        timeout: { type: 'string' },
        trace: { type: 'string' },
      },
    }),
  );
  if (positionals.length !== 1) throw new UsageError('fetch needs one URL');
  const url = positionals[0]!;
  if (!/^http:\/\//i.test(url)) throw new UsageError(`fetch takes an http:// URL, not ${JSON.stringify(url)}`);
  const identity = userIdentity(values.user, values.domain, values.password);
  const timeoutMs = positiveInt(values.timeout, '--timeout', 30_000);
  const { packages, packageName } = packageList(values.load, values.package ?? 'ntlm');

  const machine = await Machine.boot({ packages, accounts: [], trace: values.trace !== undefined });
  try {
    const client = await machine.spawn('client');
    const result = await client.runApp(SOCKET_APPS.http.client, { url, package: packageName ?? 'ntlm', ...identity, timeoutMs });
    if (values.trace !== undefined) await writeFile(values.trace, formatTimeline(await machine.events()) + '\n');
    const response = result.data as HttpFetchData | undefined;
    if (result.status !== 0 || response === undefined) {
      process.stderr.write(`sspi-emu fetch: ${result.statusName}: ${result.detail ?? ''}\n`);
      return 1;
    }
    let head = `HTTP/${response.httpVersion} ${response.statusCode} ${response.statusMessage}\n`;
    if (values.include) for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) head += `${response.rawHeaders[i]}: ${response.rawHeaders[i + 1]}\n`;
    process.stdout.write(head + '\n');
    process.stdout.write(response.body);
    return response.statusCode >= 200 && response.statusCode < 300 ? 0 : 1;
  } finally {
    await machine.shutdown();
  }
}
