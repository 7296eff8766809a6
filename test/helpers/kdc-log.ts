// A domain controller's KDC requests as its machine reports them (MachineOptions.kdc.onRequest),
// for tests that count what reached the KDC: each record wakes the waiters it satisfies (no timers),
// and a fence (a datagram that is no Kerberos request, sent by the test itself) marks the point
// after which every request answered before it was sent has its record.

import { createSocket } from 'node:dgram';
import type { KdcRequestRecord } from '../../index.js';

export class KdcLog {
  readonly records: KdcRequestRecord[] = [];
  private waiters: Array<{ ready: () => boolean; wake: () => void }> = [];
  private fences = 0;

  /** MachineOptions.kdc.onRequest. */
  readonly add = (record: KdcRequestRecord): void => {
    this.records.push(record);
    this.waiters = this.waiters.filter((w) => {
      if (!w.ready()) return true;
      w.wake();
      return false;
    });
  };

  /** Resolves once a record from `from` on answers `test`; its index. */
  async find(from: number, test: (r: KdcRequestRecord) => boolean): Promise<number> {
    const at = (): number => this.records.findIndex((r, i) => i >= from && test(r));
    await this.when(() => at() >= 0);
    return at();
  }

  /** "EXCHANGE client -> server RESULT" for the records from `from` to `to`. */
  lines(from = 0, to = this.records.length): string[] {
    return this.records.slice(from, to).map((r) => `${r.exchange ?? 'other'} ${r.client ?? '-'} -> ${r.server ?? '-'} ${r.result}`);
  }

  /** Sends the KDC at `port` a datagram that is no Kerberos request and waits for its record; its index. */
  async fence(port: number): Promise<number> {
    const from = this.records.length;
    const socket = createSocket('udp4');
    try {
      const mark = Buffer.from(`fence-${++this.fences}`);
      await new Promise<void>((sent, failed) => socket.send(mark, port, '127.0.0.1', (e) => (e ? failed(e) : sent())));
      return await this.find(from, (r) => r.exchange === null);
    } finally {
      socket.close();
    }
  }

  private when(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((wake) => this.waiters.push({ ready, wake }));
  }
}
