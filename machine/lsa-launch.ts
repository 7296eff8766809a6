// Starting an LSA, in either of its two isolations:
//
// - 'thread' (the default): a worker thread of the machine's OS process. LPC is a MessageChannel
//   per app process, its control and trace ports are MessagePorts.
// - 'process': its own OS process (node:child_process.fork), so that no code running in an app
//   process (a worker thread of the machine's OS process) can read the LSA's memory. Its control
//   and trace ports are channels of the child's IPC pipe (ipc/process-channel.ts), and app
//   processes reach it on a Unix socket in a directory of the machine's own (mode 0700), each
//   proving which process it is with a one-time secret the machine gave it at spawn
//   (lsa/lpc-listener.ts). The LPC vocabulary, its frames, the traces and faults are the same.

import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type TransferListItem } from 'node:worker_threads';
import { type ControlPort, type FramePort, IpcChannels, LPC_SECRET_BYTES, type LpcEndpoint } from '../ipc/index.js';
import type { LpcOffer, LsaBootData, LsaWorkerData } from '../lsa/index.js';
import type { ProcessHost } from './processes.js';

export type LsaIsolation = 'thread' | 'process';
export const LSA_ISOLATIONS: readonly LsaIsolation[] = ['thread', 'process'];

/** A process's LPC channel to the LSA as the machine makes it: the LSA's end and the process's end. */
export interface LpcLink {
  lsaEnd: LpcOffer;
  processEnd: LpcEndpoint;
  /** What must be transferred with the process's end (a MessagePort), if anything. */
  transfer: TransferListItem[];
}

/** An LSA as launched: its host (worker or OS process), its ports, and how processes reach it. */
export interface LaunchedLsa {
  host: ProcessHost;
  control: ControlPort & FramePort;
  trace: FramePort;
  /** A new LPC channel for one process. */
  link(): LpcLink;
  /** The OS process id of an LSA in its own process; the machine's own for a worker. */
  osPid: number;
  /** Where app processes connect to an LSA in its own process; null for a worker. */
  lpcSocket: string | null;
}

export function launchLsa(isolation: LsaIsolation, boot: LsaBootData): LaunchedLsa {
  return isolation === 'process' ? launchProcess(boot) : launchThread(boot);
}

function launchThread(boot: LsaBootData): LaunchedLsa {
  const control = new MessageChannel();
  const trace = new MessageChannel();
  const workerData: LsaWorkerData = { ...boot, controlPort: control.port2, tracePort: trace.port2 };
  const worker = new Worker(new URL('../lsa/worker.js', import.meta.url), { workerData, transferList: [control.port2, trace.port2], name: 'lsa' });
  return {
    host: worker,
    control: control.port1,
    trace: trace.port1,
    osPid: process.pid,
    lpcSocket: null,
    link() {
      const channel = new MessageChannel();
      return { lsaEnd: channel.port1, processEnd: { kind: 'port', port: channel.port2 }, transfer: [channel.port2] };
    },
  };
}

/** Flags of the machine's node that the LSA's process takes too (profiling, memory); not --test, --inspect, --eval and the like. */
function lsaExecArgv(): string[] {
  const keep = [
    '--cpu-prof',
    '--heap-prof',
    '--max-old-space-size',
    '--expose-gc',
    '--enable-source-maps',
    '--stack-size',
    '--experimental-permission',
    '--allow-',
  ];
  return process.execArgv.filter((flag) => keep.some((k) => flag.startsWith(k)));
}

function launchProcess(boot: LsaBootData): LaunchedLsa {
  // mkdtemp makes the directory 0700: only the machine's user can reach the socket at all (the secret is the real check).
  const dir = mkdtempSync(join(tmpdir(), 'sspi-emu-lsa-'));
  const socketPath = join(dir, 'lpc');
  const child = fork(fileURLToPath(new URL('../lsa/process-main.js', import.meta.url)), [], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: lsaExecArgv(),
  });
  const channels = new IpcChannels(child);
  const host = new ChildProcessHost(child, channels, () => rmSync(dir, { recursive: true, force: true }));
  // The child asks for its boot data once it listens on its pipe (a message sent before would be lost).
  channels.port('init');
  host.once('started', () => channels.port('init').postMessage({ ...boot, lpcSocket: socketPath } satisfies LsaBootData));
  return {
    host,
    control: channels.port('control'),
    trace: channels.port('trace'),
    osPid: child.pid ?? -1,
    lpcSocket: socketPath,
    link() {
      const secret = new Uint8Array(randomBytes(LPC_SECRET_BYTES));
      return { lsaEnd: { secret }, processEnd: { kind: 'socket', path: socketPath, secret }, transfer: [] };
    },
  };
}

/**
 * An LSA's OS process, as the machine handles a worker: 'message' for its boot messages, 'exit'
 * with a code (128 + the signal's number when a signal ended it), terminate() as a crash.
 */
class ChildProcessHost extends EventEmitter implements ProcessHost {
  /** The LSA runs on its process's main thread. */
  readonly threadId = 0;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(child: ChildProcess, channels: IpcChannels, cleanup: () => void) {
    super();
    this.child = child;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        cleanup();
        this.emit('exit', code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
        resolve();
      });
    });
    // A failure to start is followed by no 'exit': report it as one.
    child.on('error', (error) => {
      this.emit('error', error);
      if (child.exitCode === null && child.signalCode === null && child.pid === undefined) child.emit('exit', 1, null);
    });
    channels.port('boot').on('message', (message: unknown) => {
      if ((message as { kind?: unknown } | null)?.kind === 'started') this.emit('started');
      else this.emit('message', message);
    });
  }

  /** Kills the process (SIGKILL: nothing of it runs after) and waits until it is gone. */
  async terminate(): Promise<number> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    return this.child.exitCode ?? 1;
  }
}
