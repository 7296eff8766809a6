// A command whose output's reader goes away (`sspi-emu run | head -1`): its next write fails with
// EPIPE, and it ends there at once and quietly, as a Unix tool that SIGPIPE ends (exit 141): no
// stack trace, and nothing of it left running (a naive fix that ignored EPIPE would leave
// `run --watch` and its machine's worker threads up with no one reading).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { CLI } from '../helpers/cli.js';
import { ReloadablePackage } from '../helpers/reloadable.js';

/** How long the command may take to end once its reader has gone. */
const PROMPT_MS = 10_000;

interface HeadOne {
  /** The first line, which the reader read before it went away. */
  first: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** From the reader's going to the command's end. */
  endedAfterMs: number;
}

/** `sspi-emu ARGS | head -1`: its stdout read up to the first line, then closed, as head closes it; then how it ended. */
async function headOne(args: string[]): Promise<HeadOne> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  let out = '';
  const first = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      child.stdout.destroy();
      resolve(out.slice(0, newline));
    });
    void ended.then(() => reject(new Error(`sspi-emu ${args.join(' ')} ended before its first line: ${stderr}`)));
  });
  const goneAt = Date.now();
  const deadline = setTimeout(() => child.kill('SIGKILL'), PROMPT_MS);
  const { code, signal, at } = await ended;
  clearTimeout(deadline);
  return { first, code, signal, stderr, endedAfterMs: at - goneAt };
}

function assertQuietEnd(r: HeadOne, what: string, codes: readonly number[]): void {
  assert.equal(r.signal, null, `${what} was still running ${PROMPT_MS} ms after its reader went away; stderr: ${r.stderr}`);
  assert.ok(r.endedAfterMs < PROMPT_MS, `${what} took ${r.endedAfterMs} ms to end`);
  assert.equal(r.stderr, '', `${what}: nothing on stderr`);
  assert.ok(codes.includes(r.code!), `${what} exited ${r.code}; stderr: ${r.stderr}`);
}

describe('a command whose reader goes away', { timeout: 120_000 }, () => {
  it('run (a timeline far larger than the pipe holds) ends at once with exit 141, no stack trace', async () => {
    const r = await headOne(['run', '--messages', '200']);
    assert.match(r.first, /^\s+t \(ms\)  process  tid  call$/);
    assertQuietEnd(r, 'run', [141]);
  });

  it('run --watch ends too, its machine with it, rather than staying up for no one', async () => {
    const pkg = ReloadablePackage.create('Watched', 'one');
    try {
      const r = await headOne(['run', '--watch', '--messages', '200', '--load', pkg.entry, '--package', 'Watched']);
      assertQuietEnd(r, 'run --watch', [141]);
    } finally {
      pkg.remove();
    }
  });

  it('packages ends quietly whether or not it had more to write', async () => {
    const r = await headOne(['packages']);
    assertQuietEnd(r, 'packages', [0, 141]);
  });
});
