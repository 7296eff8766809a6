// Helpers for the real-socket tests: the sspi-emu CLI and other programs as OS processes (waiting
// on their first line or their exit, never on a sleep), a tool check for the interop tests, a raw
// HTTP/1.1 connection that sends exact bytes and reads responses in order, and NTLM tokens from
// httpntlm (an NTLM client nobody here wrote).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { CLI } from './cli.js';
import { createRequire } from 'node:module';
import { connect, createServer, type Socket } from 'node:net';

export { CLI, runProgram, sspiEmu, type Exited } from './cli.js';

/** Whether a program is on PATH. */
export function hasProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Whether gss-ntlmssp's mechanism module is installed (MIT's mechglue loads it from /etc/gss/mech.d). */
export function hasGssNtlmssp(): boolean {
  return spawnSync('sh', ['-c', 'grep -qs 1.3.6.1.4.1.311.2.2.10 /etc/gss/mech.d/*.conf /etc/gss/mech 2>/dev/null'], { stdio: 'ignore' }).status === 0;
}

/** A long-running program whose output is collected line by line. */
export class Program {
  readonly lines: string[] = [];
  readonly stderrLines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lineWaiters = new Set<{ test: (line: string) => boolean; resolve: (line: string) => void }>();

  readonly child: ChildProcess;

  constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    readLines(child.stdout!, (line) => {
      this.lines.push(line);
      this.wake(line);
    });
    readLines(child.stderr!, (line) => {
      this.stderrLines.push(line);
      this.wake(line);
    });
  }

  static start(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Program {
    return new Program(spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** The first line (stdout or stderr, already seen or to come) that matches, within `timeoutMs`; with `nth`, the nth such line. */
  waitForLine(pattern: RegExp, timeoutMs = 20_000, nth = 1): Promise<string> {
    const seen = [...this.lines, ...this.stderrLines].filter((l) => pattern.test(l));
    if (seen.length >= nth) return Promise.resolve(seen[nth - 1]!);
    let count = seen.length;
    return new Promise<string>((resolve, reject) => {
      const waiter = {
        test: (line: string) => pattern.test(line) && ++count >= nth,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.lineWaiters.delete(waiter);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stdout: ${this.lines.join(' | ')}; stderr: ${this.stderrLines.join(' | ')}`));
      }, timeoutMs);
      this.lineWaiters.add(waiter);
      void this.exited.then(() => {
        if (!this.lineWaiters.has(waiter)) return;
        this.lineWaiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`the program exited before a line matching ${pattern}; stdout: ${this.lines.join(' | ')}; stderr: ${this.stderrLines.join(' | ')}`));
      });
    });
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(line: string): void {
    for (const waiter of this.lineWaiters) {
      if (waiter.test(line)) {
        this.lineWaiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  }
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let newline: number;
    while ((newline = rest.indexOf('\n')) >= 0) {
      onLine(rest.slice(0, newline));
      rest = rest.slice(newline + 1);
    }
  });
  stream.on('end', () => {
    if (rest.length > 0) onLine(rest);
  });
}

/** `sspi-emu serve ARGS`, started and listening: its first stdout line names the port. */
export async function startServe(args: string[]): Promise<{ program: Program; port: number }> {
  const program = Program.start(process.execPath, [CLI, 'serve', ...args]);
  try {
    const line = await program.waitForLine(/^listening on /);
    const match = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line);
    if (match === null || program.lines[0] !== line)
      throw new Error(`the first stdout line is not "listening on 127.0.0.1:PORT": ${JSON.stringify(program.lines[0])}`);
    return { program, port: Number(match[1]) };
  } catch (error) {
    await program.stop('SIGKILL');
    throw error;
  }
}

/** `sspi-emu dc ARGS` (give it --port 0), started and serving: its first stdout line names its KDC's port. */
export async function startDc(args: string[]): Promise<{ program: Program; port: number }> {
  const program = Program.start(process.execPath, [CLI, 'dc', ...args]);
  try {
    const line = await program.waitForLine(/^kdc listening on /);
    const match = /^kdc listening on 127\.0\.0\.1:(\d+)$/.exec(line);
    if (match === null || program.lines[0] !== line)
      throw new Error(`the first stdout line is not "kdc listening on 127.0.0.1:PORT": ${JSON.stringify(program.lines[0])}`);
    return { program, port: Number(match[1]) };
  } catch (error) {
    await program.stop('SIGKILL');
    throw error;
  }
}

/** A loopback port that was free a moment ago (for programs that cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 connection that writes exact bytes and reads responses in order (the server under
 * test always sends Content-Length). `closed` resolves when the server closes the connection.
 */
export class RawHttp {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  private buffer = Buffer.alloc(0);
  private waiter: ((response: RawResponse | null) => void) | null = null;
  private ended = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.deliver();
    });
    socket.on('error', () => undefined); // a reset shows as `closed`
    socket.once('close', () => {
      this.ended = true;
      this.deliver();
    });
  }

  static open(port: number): Promise<RawHttp> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new RawHttp(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes a request with these headers (Host added) and reads its response; null if the connection closed first. */
  request(headers: Record<string, string> = {}, path = '/'): Promise<RawResponse | null> {
    const lines = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
    this.socket.write(lines.join('\r\n'));
    return this.response();
  }

  /** The next response; null if the connection closes first. */
  response(): Promise<RawResponse | null> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.deliver();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private deliver(): void {
    if (this.waiter === null) return;
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end >= 0) {
      const head = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      const length = Number(headers['content-length'] ?? 0);
      if (this.buffer.byteLength >= end + 4 + length) {
        const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
        this.buffer = this.buffer.subarray(end + 4 + length);
        const waiter = this.waiter;
        this.waiter = null;
        waiter({ status, headers, body });
        return;
      }
    }
    if (this.ended) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter(null);
    }
  }
}

/** The parts of httpntlm's ntlm.js the tests use (it ships no types). */
interface HttpNtlm {
  createType1Message(options: { domain?: string; workstation?: string }): string;
  parseType2Message(header: string, callback: (error: Error) => void): unknown;
  createType3Message(type2: unknown, options: { username: string; password: string; domain?: string; workstation?: string }): string;
}

const httpntlm = createRequire(import.meta.url)('httpntlm/ntlm.js') as HttpNtlm;

/** A NEGOTIATE_MESSAGE as an Authorization value ("NTLM <base64>"). */
export function ntlmType1(): string {
  return httpntlm.createType1Message({ domain: 'WORKGROUP', workstation: 'TEST' });
}

/** The AUTHENTICATE_MESSAGE answering a WWW-Authenticate "NTLM <CHALLENGE>", as an Authorization value. */
export function ntlmType3(wwwAuthenticate: string, user: string, password: string): string {
  const type2 = httpntlm.parseType2Message(wwwAuthenticate, (error) => {
    throw error;
  });
  return httpntlm.createType3Message(type2, { username: user, password, domain: 'WORKGROUP', workstation: 'TEST' });
}

/** The whole handshake on one raw connection; the final response. */
export async function ntlmHandshake(conn: RawHttp, user: string, password: string): Promise<{ challenge: RawResponse | null; final: RawResponse | null }> {
  const challenge = await conn.request({ Authorization: ntlmType1() });
  const header = challenge?.headers['www-authenticate'];
  if (challenge === null || challenge.status !== 401 || header === undefined || !/^NTLM \S+/.test(header)) return { challenge, final: null };
  const final = await conn.request({ Authorization: ntlmType3(header, user, password) });
  return { challenge, final };
}
