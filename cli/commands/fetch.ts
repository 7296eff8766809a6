// `sspi-emu fetch URL`: boots a machine in this OS process, spawns a client process, and runs the
// HTTP client app in it: the NTLM handshake (NEGOTIATE with the first request, AUTHENTICATE on
// the same connection after the server's CHALLENGE) with InitializeSecurityContext in the emulated
// LSA, against any HTTP server that asks for NTLM (sspi-emu serve --http/--https, IIS, ...); with
// --package Negotiate, RFC 4559's Negotiate scheme (SPNEGO, NTLM inside), the server's final token
// with its 200 verified before the answer is taken. An
// https:// URL is fetched over TLS: the server's certificate is checked (the system's CAs, --ca,
// --fingerprint, or not at all with --insecure) and the AUTHENTICATE carries its channel bindings
// (RFC 5929 tls-server-end-point) unless --no-channel-bindings. Prints the status line, the headers
// with -i, and the body; exit 0 on a 2xx answer, 3 on a network failure (refused, the server hung
// up, a name that does not resolve), 1 otherwise (a certificate not trusted included).

import type { HttpFetchData } from '../../client-proc/index.js';
import { SOCKET_APPS } from '../../scenarios/index.js';
import { flags, IDENTITY_OPTIONS, ISOLATION_OPTIONS, PACKAGE_OPTIONS, parseCommand, REALM_OPTIONS, TRACE_OPTIONS, valued } from '../options.js';
import { clientTrust, NETWORK_FAILURE_EXIT, runClientApp } from '../socket-options.js';
import { UsageError } from '../usage.js';

export async function fetch(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      ...PACKAGE_OPTIONS,
      ...IDENTITY_OPTIONS,
      ...ISOLATION_OPTIONS,
      ...REALM_OPTIONS,
      include: { type: 'boolean', short: 'i' },
      insecure: { type: 'boolean', short: 'k' },
      ...flags('no-channel-bindings'),
      ...TRACE_OPTIONS,
      ...valued('timeout', 'ca', 'fingerprint'),
    },
    1,
  );
  if (positionals.length !== 1) throw new UsageError('fetch needs one URL');
  const url = positionals[0]!;
  const https = /^https:\/\//i.test(url);
  if (!https && !/^http:\/\//i.test(url)) throw new UsageError(`fetch takes an http:// or https:// URL, not ${JSON.stringify(url)}`);
  if (!https && (values.insecure || values.ca !== undefined || values.fingerprint !== undefined || values['no-channel-bindings']))
    throw new UsageError('--insecure, --ca, --fingerprint and --no-channel-bindings go with an https:// URL');
  const trust = https ? await clientTrust(values) : undefined;
  const tlsArgs = { ...(trust === undefined ? {} : { tls: trust }), ...(values['no-channel-bindings'] ? { channelBindings: false } : {}) };
  const result = await runClientApp(values, 'fetch', 30_000, (client, settings) => client.runApp(SOCKET_APPS.http.client, { url, ...settings, ...tlsArgs }));
  if (result.networkFailure !== undefined) {
    process.stderr.write(`sspi-emu fetch: network failure: ${result.networkFailure}\n`);
    return NETWORK_FAILURE_EXIT;
  }
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
}
