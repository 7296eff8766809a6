// A small Chrome DevTools Protocol client for tests, over the two carriers the tests need: a
// WebSocket (an inspector's ws:// URL, as a debugger attaches to a Node process or worker; a
// client in a few lines over node:http's upgrade, RFC 6455 framing: masked frames out, plain frames
// in) and Chromium's --remote-debugging-pipe (NUL-terminated JSON on two file descriptors).
// node:inspector's own Session reaches only its own thread, not another thread's inspector.

import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';

export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

interface CdpReply {
  id: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** One DevTools protocol connection: commands with their replies, and the events, kept until taken. */
export class CdpClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  private readonly events: CdpEvent[] = [];
  private readonly waiters: Array<{ method: string; match: (event: CdpEvent) => boolean; resolve: (event: CdpEvent) => void }> = [];
  private closedWith: Error | undefined;

  private readonly write: (text: string) => void;
  private readonly end: () => void;

  private constructor(write: (text: string) => void, end: () => void) {
    this.write = write;
    this.end = end;
  }

  /** Attaches to an inspector's ws:// URL. */
  static websocket(url: string): Promise<CdpClient> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
      const upgrade = request({
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Version': '13' },
      });
      upgrade.once('error', reject);
      upgrade.once('response', (response) => reject(new Error(`${url} answered HTTP ${response.statusCode}, not a WebSocket upgrade`)));
      upgrade.once('upgrade', (_response, socket: Socket, head: Buffer) => {
        const client = new CdpClient(
          (text) => socket.write(frame(0x1, Buffer.from(text))),
          () => socket.end(frame(0x8, Buffer.alloc(0))),
        );
        let buffered = head;
        let message: Buffer[] = [];
        const onData = (data: Buffer): void => {
          buffered = Buffer.concat([buffered, data]);
          for (;;) {
            const parsed = unframe(buffered);
            if (parsed === undefined) return;
            buffered = buffered.subarray(parsed.size);
            if (parsed.opcode === 0x9) socket.write(frame(0xa, parsed.payload));
            else if (parsed.opcode === 0x8) socket.end();
            else if (parsed.opcode === 0x1 || parsed.opcode === 0x0) {
              message.push(parsed.payload);
              if (parsed.fin) {
                client.receive(Buffer.concat(message).toString('utf8'));
                message = [];
              }
            }
          }
        };
        socket.on('data', onData);
        socket.on('close', () => client.closed(new Error(`the inspector at ${url} closed the connection`)));
        socket.on('error', () => undefined);
        if (head.length > 0) onData(Buffer.alloc(0));
        resolve(client);
      });
      upgrade.end();
    });
  }

  /** Speaks over Chromium's --remote-debugging-pipe: `toBrowser` is its fd 3, `fromBrowser` its fd 4. */
  static pipe(toBrowser: Writable, fromBrowser: Readable): CdpClient {
    const client = new CdpClient(
      (text) => toBrowser.write(text + '\0'),
      () => toBrowser.end(),
    );
    let buffered = '';
    fromBrowser.setEncoding('utf8');
    fromBrowser.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\0'); end >= 0; end = buffered.indexOf('\0')) {
        client.receive(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
      }
    });
    fromBrowser.on('close', () => client.closed(new Error('the browser closed its end of the pipe')));
    toBrowser.on('error', () => undefined);
    return client;
  }

  /** Sends a command (to a target's session when `sessionId` is given); its result, or a rejection with the protocol's error. */
  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (result) => resolve(result as T), reject });
      this.write(JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) }));
    });
  }

  /** The next event of `method` (that `match` accepts) not yet taken: one that came already, or the next to come. */
  next(method: string, match: (event: CdpEvent) => boolean = () => true): Promise<CdpEvent> {
    const at = this.events.findIndex((e) => e.method === method && match(e));
    if (at >= 0) return Promise.resolve(this.events.splice(at, 1)[0]!);
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    return new Promise((resolve) => this.waiters.push({ method, match, resolve }));
  }

  /** Every event of `method` that came and was not taken, taken now. */
  take(method: string): CdpEvent[] {
    const taken = this.events.filter((e) => e.method === method);
    for (const e of taken) this.events.splice(this.events.indexOf(e), 1);
    return taken;
  }

  close(): void {
    this.end();
  }

  private receive(text: string): void {
    const message = JSON.parse(text) as Partial<CdpReply> & Partial<CdpEvent>;
    if (typeof message.id === 'number') {
      const call = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) call?.reject(new Error(`${message.error.message} (${message.error.code})`));
      else call?.resolve(message.result ?? {});
      return;
    }
    if (typeof message.method !== 'string') return;
    const event: CdpEvent = {
      method: message.method,
      params: message.params ?? {},
      ...(message.sessionId === undefined ? {} : { sessionId: message.sessionId }),
    };
    const waiter = this.waiters.findIndex((w) => w.method === event.method && w.match(event));
    if (waiter >= 0) this.waiters.splice(waiter, 1)[0]!.resolve(event);
    else this.events.push(event);
  }

  private closed(error: Error): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = error;
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }
}

/** A client's frame: FIN, the opcode, masked as RFC 6455 requires of clients. */
function frame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length]) : length < 0x10000 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (length >= 126 && length < 0x10000) {
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else if (length >= 0x10000) {
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/** A server's frame (unmasked) at the start of `data`, or undefined until all of it has come. */
function unframe(data: Buffer): { fin: boolean; opcode: number; payload: Buffer; size: number } | undefined {
  if (data.length < 2) return undefined;
  let length = data[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return undefined;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  if (data.length < offset + length) return undefined;
  return { fin: (data[0]! & 0x80) !== 0, opcode: data[0]! & 0x0f, payload: data.subarray(offset, offset + length), size: offset + length };
}
