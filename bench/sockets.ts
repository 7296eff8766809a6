// Handshakes per second over real loopback sockets, all in one run against one machine (the
// machines here are shared and noisy: read the rows against each other, not alone):
//   - the HTTP and TCP client apps in one client process against the server apps (the emulator's
//     own rate over sockets, no process start-up in it), 1 and 8 at a time;
//   - curl --ntlm processes against the HTTP server app, 8 at a time;
//   - MIT gss-client (-nw) processes against the TCP server app, 8 at a time;
//   - `sspi-emu fetch` OS processes (each boots its own machine) against the HTTP server app.
// External programs that are not installed are left out of the table, with a note.
//
// Run it alone: node dist/bench/sockets.js [--json FILE]

import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Machine } from '../machine/index.js';
import { SOCKET_APPS, SocketServer } from '../scenarios/index.js';

export interface SocketRateRow {
  client: string;
  parallel: number;
  handshakes: number;
  ms: number;
  perSecond: number;
}

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const PASSWORD = 'Passw0rd!';

/** `total` runs of `once`, `parallel` at a time, and the rate of those that succeeded. */
async function rate(client: string, total: number, parallel: number, once: () => Promise<boolean>): Promise<SocketRateRow> {
  let next = 0;
  let ok = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        next++;
        if (await once()) ok++;
      }
    }),
  );
  const ms = performance.now() - start;
  return { client, parallel, handshakes: ok, ms: Math.round(ms), perSecond: Math.round((ok / ms) * 10_000) / 10 };
}

function program(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => execFile(file, args, { env, timeout: 30_000 }, (error, stdout) => resolve({ ok: error === null, stdout })));
}

const installed = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;

export async function socketRates(options: { scale?: number } = {}): Promise<{ rows: SocketRateRow[]; notes: string[] }> {
  const n = options.scale ?? 1;
  const rows: SocketRateRow[] = [];
  const notes: string[] = [];
  const machine = await Machine.boot({ packages: ['ntlm'], accounts: [`alice:${PASSWORD}`], trace: false });
  try {
    const http = await SocketServer.start(await machine.spawn('server'), { protocol: 'http', port: 0, package: 'NTLM' });
    const tcp = await SocketServer.start(await machine.spawn('server', { name: 'server#tcp' }), { protocol: 'tcp', port: 0, package: 'NTLM' });
    const client = await machine.spawn('client');
    const url = `http://127.0.0.1:${http.port}/`;
    const fetchApp = async (): Promise<boolean> =>
      ((await client.runApp(SOCKET_APPS.http.client, { url, package: 'NTLM', user: 'alice', password: PASSWORD })).data as { statusCode?: number } | undefined)
        ?.statusCode === 200;
    const tcpApp = async (): Promise<boolean> =>
      (await client.runApp(SOCKET_APPS.tcp.client, { host: '127.0.0.1', port: tcp.port, package: 'NTLM', user: 'alice', password: PASSWORD })).status === 0;
    await fetchApp(); // warm-up: the user-mode half is initialized once per process
    await tcpApp();
    for (const parallel of [1, 8]) rows.push(await rate('HTTP client app (in-machine)', 200 * n, parallel, fetchApp));
    for (const parallel of [1, 8]) rows.push(await rate('TCP client app (in-machine)', 200 * n, parallel, tcpApp));
    if (installed('curl')) {
      rows.push(
        await rate(
          'curl --ntlm processes',
          100 * n,
          8,
          async () => (await program('curl', ['-s', '--ntlm', '-u', `alice:${PASSWORD}`, '-o', '/dev/null', '-w', '%{http_code}', url])).stdout === '200',
        ),
      );
    } else notes.push('curl not installed: no curl row');
    if (installed('gss-client')) {
      const env = { ...process.env, KRB5_CONFIG: '/dev/null' };
      const args = [
        '-q',
        '-nw',
        '-port',
        String(tcp.port),
        '-mech',
        '{ 1 3 6 1 4 1 311 2 2 10 }',
        '-user',
        'alice',
        '-pass',
        PASSWORD,
        '127.0.0.1',
        'host@localhost',
        'hi',
      ];
      rows.push(await rate('MIT gss-client processes', 100 * n, 8, async () => (await program('gss-client', args, env)).ok));
    } else notes.push('gss-client not installed: no gss-client row');
    rows.push(
      await rate(
        'sspi-emu fetch processes',
        8 * n,
        4,
        async () => (await program(process.execPath, [CLI, 'fetch', url, '--user', 'alice', '--password', PASSWORD])).ok,
      ),
    );
    await http.stop();
    await tcp.stop();
    const left = (await machine.lsa.stats()).contexts;
    if (left !== 0) notes.push(`${left} contexts left in the LSA after the servers stopped`);
  } finally {
    await machine.shutdown();
  }
  return { rows, notes };
}

export function formatSocketRates(result: { rows: SocketRateRow[]; notes: string[] }): string {
  const width = Math.max(...result.rows.map((r) => r.client.length), 6);
  const lines = [`${'client'.padEnd(width)}  parallel  handshakes      ms  per second`];
  for (const r of result.rows)
    lines.push(
      `${r.client.padEnd(width)}  ${String(r.parallel).padStart(8)}  ${String(r.handshakes).padStart(10)}  ${String(r.ms).padStart(6)}  ${String(r.perSecond).padStart(10)}`,
    );
  return [...lines, ...result.notes.map((note) => `note: ${note}`)].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const jsonAt = process.argv.indexOf('--json');
  const result = await socketRates();
  process.stdout.write(formatSocketRates(result) + '\n');
  if (jsonAt > 0 && process.argv[jsonAt + 1] !== undefined) await writeFile(process.argv[jsonAt + 1]!, JSON.stringify(result, null, 2) + '\n');
}
