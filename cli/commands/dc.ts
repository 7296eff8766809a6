// `sspi-emu dc --realm R --port P`: boots a domain controller in this OS process (its LSA, in a
// worker thread or its own OS process, runs the KDC over the --account users and the --service
// principals, and Netlogon over the --machine accounts of its members) and keeps it up. The first
// line of stdout is "kdc listening on HOST:PORT" (--port 0 picks a free port), after the
// --export-keytab file is written, so that whoever waits for that line can use both; the second
// "netlogon listening on HOST:PORT" (--netlogon-port, default a free one), the address members join
// with (serve --dc); then one line per KDC request (the exchange, the principals, the result) and
// per Netlogon call (the call, the machine account, the status). SIGINT or SIGTERM stops it: the
// KDC and Netlogon stop listening, the LSA ends, and the counts are printed, after the
// --trace/--trace-json files (the DC's side: each request's call points) are written.

import { chmod, writeFile } from 'node:fs/promises';
import { describeError } from '../../ipc/index.js';
import { Machine, parseServiceSpec, type KdcServiceOptions } from '../../machine/index.js';
import { encryptionTypeInfo } from '../../packages/kerberos/crypto/index.js';
import type { KdcRequestRecord, NetlogonServerRecord } from '../../lsa/index.js';
import {
  accountSpecs,
  flags,
  ISOLATION_OPTIONS,
  lsaIsolation,
  parseCommand,
  repeated,
  TRACE_OPTIONS,
  tracing,
  valued,
  wholeNumber,
  writeTraceFiles,
} from '../options.js';
import { UsageError } from '../usage.js';

export async function dc(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    ...ISOLATION_OPTIONS,
    ...TRACE_OPTIONS,
    ...valued('realm', 'port', 'host', 'export-keytab', 'work-pool', 'netlogon-port'),
    ...repeated('account', 'service', 'machine'),
    ...flags('quiet'),
  });
  if (values.realm === undefined) throw new UsageError('dc needs --realm (EXAMPLE.TEST)');
  if (values.port === undefined) throw new UsageError('dc needs --port (0 picks a free one)');
  const port = wholeNumber(values.port, '--port', 0, 0, 65535);
  const netlogonPort = wholeNumber(values['netlogon-port'], '--netlogon-port', 0, 0, 65535);
  for (const m of values.machine ?? []) if (m.indexOf(':') <= 0) throw new UsageError(`--machine ${JSON.stringify(m)} is not NAME:SECRET`);
  const workPool = values['work-pool'] === undefined ? undefined : wholeNumber(values['work-pool'], '--work-pool', 1, 0, 64);
  const accounts = accountSpecs(values.account);
  const services: KdcServiceOptions[] = (values.service ?? []).map((s) => {
    const service = parseServiceSpec(s);
    if (service.principal.length === 0) throw new UsageError(`--service ${JSON.stringify(s)} is not SPN[:PASSWORD]`);
    return service;
  });

  // Records that come before the listening lines are printed wait for them: they are the first lines.
  let listening = false;
  const early: string[] = [];
  const line = (text: string): void => {
    if (values.quiet) return;
    if (listening) process.stdout.write(`${text}\n`);
    else early.push(text);
  };
  const print = (record: KdcRequestRecord): void => line(formatRequest(record));
  const printCall = (record: NetlogonServerRecord): void => line(formatNetlogonCall(record));
  let machine: Machine;
  try {
    machine = await Machine.boot({
      role: 'domain-controller',
      realm: values.realm,
      kdc: { port, ...(values.host === undefined ? {} : { host: values.host }), onRequest: print },
      netlogon: { port: netlogonPort, ...(values.host === undefined ? {} : { host: values.host }), onRequest: printCall },
      ...(values.machine === undefined ? {} : { machineAccounts: values.machine }),
      ...(accounts === undefined ? {} : { accounts }),
      services,
      trace: tracing(values),
      ...lsaIsolation(values['lsa-isolation']),
      ...(workPool === undefined ? {} : { lsaWorkPool: { threads: workPool } }),
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'BAD_OPTION') throw new UsageError((error as Error).message);
    throw error;
  }
  let stop: () => void = () => undefined;
  const stopped = new Promise<'signal'>((resolve) => (stop = () => resolve('signal')));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    if (values['export-keytab'] !== undefined) {
      const file = values['export-keytab'];
      // The services' long-term keys: readable by this user only, as kadmin's ktadd leaves a keytab.
      await writeFile(file, await machine.lsa.exportKeytab(), { mode: 0o600 });
      await chmod(file, 0o600);
    }
    const address = machine.kdcAddress!;
    const netlogon = machine.netlogonAddress!;
    process.stdout.write(`kdc listening on ${address.host}:${address.port}\nnetlogon listening on ${netlogon.host}:${netlogon.port}\n`);
    listening = true;
    for (const text of early.splice(0)) process.stdout.write(`${text}\n`);
    const why = await Promise.race([stopped, machine.lsa.exited.then(() => 'lsa' as const)]);
    if (why === 'lsa') {
      process.stderr.write(
        `sspi-emu dc: the LSA (and its KDC) exited${machine.lsa.crashError === undefined ? '' : `: ${describeError(machine.lsa.crashError)}`}\n`,
      );
      return 1;
    }
    const status = await machine.lsa.kdc();
    const nl = await machine.lsa.netlogon();
    const logons = nl?.role === 'domain-controller' ? Object.values(nl.stats.logons).reduce((a, b) => a + b, 0) : 0;
    const channels = nl?.role === 'domain-controller' ? `; ${nl.stats.channels} secure channels, ${logons} pass-through logons` : '';
    const counts =
      status === null ? '' : `${status.requests.as} AS and ${status.requests.tgs} TGS requests, ${status.requests.issued} tickets issued${channels}`;
    await writeTraceFiles(machine, values, 'dc', 'sspi-emu dc');
    process.stdout.write(`stopped: ${counts}\n`);
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await machine.shutdown();
  }
}

/** One request as `dc` prints it: "AS-REQ alice@EXAMPLE.TEST -> krbtgt/EXAMPLE.TEST@EXAMPLE.TEST: OK aes256-cts-hmac-sha1-96 (udp 127.0.0.1:40123, 1.2 ms)". */
export function formatRequest(r: KdcRequestRecord): string {
  const exchange = r.exchange === null ? 'KDC-REQ' : `${r.exchange}-REQ`;
  const result = r.errorCode === 0 && r.etype !== undefined ? `OK ${etypeName(r.etype)}` : r.result;
  // Why a request was refused, unless it is the usual first step of a kinit.
  const why = r.detail !== undefined && r.result !== 'KDC_ERR_PREAUTH_REQUIRED' ? `: ${r.detail}` : '';
  return `${exchange} ${r.client ?? '?'} -> ${r.server ?? '?'}: ${result} (${r.transport} ${r.peer}, ${r.ms.toFixed(1)} ms)${why}`;
}

/** One Netlogon call as `dc` prints it: "NetrServerAuthenticate3 MEMBER$: STATUS_SUCCESS (127.0.0.1:40124, 0.4 ms)", with why for a refusal. */
export function formatNetlogonCall(r: NetlogonServerRecord): string {
  const who = r.account === undefined ? '' : ` ${r.account}`;
  const why = r.detail === undefined ? '' : `: ${r.detail}`;
  return `${r.call}${who}: ${r.status} (${r.peer}, ${r.ms.toFixed(1)} ms)${why}`;
}

function etypeName(etype: number): string {
  try {
    return encryptionTypeInfo(etype).name;
  } catch {
    return `etype ${etype}`;
  }
}
