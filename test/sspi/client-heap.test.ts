// The app process's heap as the LSA reaches it: every read and write must fall inside one live
// allocation, or it is STATUS_ACCESS_VIOLATION.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusName } from '../../headers/status.js';
import { ClientHeap } from '../../sspi/client-heap.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const MiB = 1024 * 1024;

function allocate(heap: ClientHeap, length: number): number {
  const r = heap.allocate(length);
  assert.equal(statusName(r.status), 'SEC_E_OK');
  return r.address!;
}

describe('ClientHeap', () => {
  it('allocates zeroed blocks at distinct addresses', () => {
    const heap = new ClientHeap();
    const a = allocate(heap, 16);
    const b = allocate(heap, 16);
    assert.notEqual(a, b);
    assert.equal(heap.allocations, 2);
    assert.deepEqual(heap.read(a, 16).bytes, new Uint8Array(16));
  });

  it('reads back what was written, at any offset inside the block', () => {
    const heap = new ClientHeap();
    const a = allocate(heap, 8);
    assert.equal(statusName(heap.write(a + 2, bytes(1, 2, 3))), 'SEC_E_OK');
    assert.deepEqual(heap.read(a, 8).bytes, bytes(0, 0, 1, 2, 3, 0, 0, 0));
    assert.deepEqual(heap.read(a + 3, 2).bytes, bytes(2, 3));
    assert.deepEqual(heap.read(a + 8, 0).bytes, bytes(), 'an empty read at the very end is inside');
  });

  it('places a copy of the bytes it is given', () => {
    const heap = new ClientHeap();
    const source = bytes(9, 8, 7);
    const address = heap.place(source);
    source.fill(0);
    assert.deepEqual(heap.read(address, 3).bytes, bytes(9, 8, 7));
  });

  it('hands out a copy on read, not a view into the block', () => {
    const heap = new ClientHeap();
    const address = heap.place(bytes(1, 2));
    heap.read(address, 2).bytes!.fill(0xff);
    assert.deepEqual(heap.read(address, 2).bytes, bytes(1, 2));
  });

  it('answers STATUS_ACCESS_VIOLATION for a read or write that runs past the end of its block', () => {
    const heap = new ClientHeap();
    const a = allocate(heap, 8);
    assert.equal(statusName(heap.read(a, 9).status), 'STATUS_ACCESS_VIOLATION');
    assert.equal(statusName(heap.read(a + 7, 2).status), 'STATUS_ACCESS_VIOLATION');
    assert.equal(statusName(heap.write(a + 4, bytes(1, 2, 3, 4, 5))), 'STATUS_ACCESS_VIOLATION');
    assert.deepEqual(heap.read(a, 8).bytes, new Uint8Array(8), 'a refused write changes nothing');
  });

  it('answers STATUS_ACCESS_VIOLATION before a block, between blocks, and across two blocks', () => {
    const heap = new ClientHeap();
    const a = allocate(heap, 16);
    const b = allocate(heap, 16);
    assert.equal(statusName(heap.read(a - 1, 1).status), 'STATUS_ACCESS_VIOLATION');
    assert.equal(statusName(heap.read(a + 16, 1).status), 'STATUS_ACCESS_VIOLATION');
    assert.equal(statusName(heap.read(a, b + 16 - a).status), 'STATUS_ACCESS_VIOLATION');
    assert.equal(statusName(heap.write(b - 1, bytes(1))), 'STATUS_ACCESS_VIOLATION');
    assert.equal(statusName(heap.read(0, 1).status), 'STATUS_ACCESS_VIOLATION');
  });

  it('answers STATUS_ACCESS_VIOLATION for an address or length that is not a whole number', () => {
    const heap = new ClientHeap();
    const a = allocate(heap, 16);
    for (const [address, length] of [
      [a + 0.5, 1],
      [a, 1.5],
      [a, -1],
      [Number.NaN, 1],
      [a, Number.POSITIVE_INFINITY],
    ] as const) {
      assert.equal(statusName(heap.read(address, length).status), 'STATUS_ACCESS_VIOLATION', `${address} ${length}`);
    }
  });

  it('answers STATUS_INVALID_PARAMETER for a negative or fractional allocation size', () => {
    const heap = new ClientHeap();
    assert.equal(statusName(heap.allocate(-1).status), 'STATUS_INVALID_PARAMETER');
    assert.equal(statusName(heap.allocate(1.5).status), 'STATUS_INVALID_PARAMETER');
    assert.equal(heap.allocations, 0);
  });

  it('answers STATUS_NO_MEMORY past 64 MiB in use, and has room again after a free', () => {
    const heap = new ClientHeap();
    assert.equal(statusName(heap.allocate(64 * MiB + 1).status), 'STATUS_NO_MEMORY');
    const big = allocate(heap, 48 * MiB);
    assert.equal(statusName(heap.allocate(17 * MiB).status), 'STATUS_NO_MEMORY');
    heap.free(big);
    allocate(heap, 17 * MiB);
  });

  it('zeroes a block when it is freed, so a marshalled password does not linger', () => {
    const heap = new ClientHeap();
    const address = heap.place(new TextEncoder().encode('Passw0rd!'));
    // The block itself, as only the heap holds it: the test looks at the memory after the free.
    const block = (heap as unknown as { blocks: Map<number, Uint8Array> }).blocks.get(address)!;
    assert.equal(statusName(heap.free(address)), 'SEC_E_OK');
    assert.deepEqual(block, new Uint8Array(9));
  });

  it('refuses access to a freed block, and answers STATUS_INVALID_PARAMETER to a second free or a made-up address', () => {
    const heap = new ClientHeap();
    const a = heap.place(bytes(1, 2, 3));
    heap.free(a);
    assert.equal(heap.allocations, 0);
    assert.equal(statusName(heap.read(a, 1).status), 'STATUS_ACCESS_VIOLATION');
    assert.equal(statusName(heap.write(a, bytes(1))), 'STATUS_ACCESS_VIOLATION');
    assert.equal(statusName(heap.free(a)), 'STATUS_INVALID_PARAMETER');
    const b = allocate(heap, 16);
    assert.equal(statusName(heap.free(b + 1)), 'STATUS_INVALID_PARAMETER', 'only the base address frees a block');
    assert.equal(heap.allocations, 1);
  });
});
