// Named ports over a child process's IPC pipe: the machine and an LSA that runs as its own OS
// process (lsaIsolation: 'process') talk over it as they would over the LSA worker's
// MessagePorts: one port for the control calls (comlink, which the machine uses only with the
// LSA, whose code it trusts), one for the trace, one for the boot messages. Values go with Node's
// 'advanced' serialization (the structured clone of MessagePorts, without transferables).
//
// No app process can reach this pipe: it joins the machine's thread and the LSA's process only.

import { EventEmitter } from 'node:events';
import type { FramePort } from './link.js';

/** What the two ends have: a ChildProcess on the machine's side, `process` in the child. */
export interface IpcEndpoint {
  send?(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  readonly connected?: boolean;
}

interface Envelope {
  ch: string;
  data?: unknown;
  /** The other end closed this port. */
  close?: true;
}

export class IpcChannels {
  private readonly endpoint: IpcEndpoint;
  private readonly ports = new Map<string, IpcPort>();
  private disconnected = false;

  constructor(endpoint: IpcEndpoint) {
    this.endpoint = endpoint;
    endpoint.on('message', (message: unknown) => {
      const envelope = message as Partial<Envelope> | null;
      if (typeof envelope !== 'object' || envelope === null || typeof envelope.ch !== 'string') return;
      const port = this.ports.get(envelope.ch);
      if (port === undefined) return;
      if (envelope.close === true) port.closedByPeer();
      else port.emit('message', envelope.data);
    });
    endpoint.on('disconnect', () => {
      this.disconnected = true;
      for (const port of this.ports.values()) port.closedByPeer();
    });
  }

  /** The port of that name (the same object each time). */
  port(name: string): IpcPort {
    let port = this.ports.get(name);
    if (port === undefined) {
      port = new IpcPort(name, (envelope) => this.send(envelope));
      this.ports.set(name, port);
    }
    return port;
  }

  private send(envelope: Envelope): void {
    if (this.disconnected || this.endpoint.connected === false || this.endpoint.send === undefined) return;
    try {
      this.endpoint.send(envelope);
    } catch {
      // The pipe closed under us: 'disconnect' closes every port.
    }
  }
}

/** One named port of an IpcChannels: a FramePort, and enough of a MessagePort for comlink's node adapter. */
export class IpcPort extends EventEmitter implements FramePort {
  readonly name: string;
  private readonly send: (envelope: Envelope) => void;
  private closed = false;

  constructor(name: string, send: (envelope: Envelope) => void) {
    super();
    this.name = name;
    this.send = send;
  }

  postMessage(value: unknown, transferList?: readonly unknown[]): void {
    if (transferList !== undefined && transferList.length > 0) throw new TypeError(`ipc:${this.name}: nothing can be transferred to another OS process`);
    if (!this.closed) this.send({ ch: this.name, data: value });
  }

  close(): void {
    if (this.closed) return;
    this.send({ ch: this.name, close: true });
    this.closedByPeer();
  }

  /** comlink's adapter starts a port; this one delivers from the start. */
  start(): void {}

  unref(): void {}

  closedByPeer(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}
