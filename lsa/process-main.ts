// The LSA's entry as its own OS process (lsaIsolation: 'process'), forked by the machine with an
// IPC pipe: its boot data is the first message on the pipe's "init" channel, its control and
// trace ports are channels of the pipe (ipc/process-channel.ts), and app processes reach it on
// its Unix socket (lsa/lpc-listener.ts). When the machine goes away (the pipe closes), so does it,
// and with it the socket's directory (the machine removes it itself when it sees the LSA exit).
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { IpcChannels } from '../ipc/index.js';
import type { LsaBootData } from './worker-data.js';
import { serveLsa } from './serve.js';

// A package's exceptions name its own sources (.ts lines) when it was built with source maps.
process.setSourceMapsEnabled(true);
let socketDirectory: string | undefined;
process.on('disconnect', () => {
  if (socketDirectory !== undefined) rmSync(socketDirectory, { recursive: true, force: true });
  process.exit(0);
});
const channels = new IpcChannels(process);
const init = channels.port('init');
init.once('message', (value: unknown) => {
  init.close();
  const data = value as LsaBootData;
  if (data.lpcSocket !== undefined) socketDirectory = dirname(data.lpcSocket);
  void serveLsa(data, {
    control: channels.port('control'),
    trace: channels.port('trace'),
    boot: (message) => channels.port('boot').postMessage(message),
  });
});
// Now that the pipe is listened to, the machine may send the boot data.
channels.port('boot').postMessage({ kind: 'started' });
