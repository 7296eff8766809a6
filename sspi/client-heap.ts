// The app process's "address space" as the LSA can reach it: buffers the LSA allocates here
// (AllocateClientBuffer), writes (CopyToClientBuffer) and reads (CopyFromClientBuffer), and
// buffers the SSPI library places here for the LSA to read, such as the marshalled
// SEC_WINNT_AUTH_IDENTITY of an AcquireCredentialsHandle call. Addresses are numbers in a
// process-specific range; a read or write outside one allocation is STATUS_ACCESS_VIOLATION.

import { STATUS_ACCESS_VIOLATION, STATUS_INVALID_PARAMETER, STATUS_NO_MEMORY, STATUS_SUCCESS, type Status } from '../headers/index.js';

/** The most one process lets the LSA allocate in it at once. */
const MAX_CLIENT_HEAP_BYTES = 64 * 1024 * 1024;
const ALIGNMENT = 16;

export class ClientHeap {
  private readonly blocks = new Map<number, Uint8Array>();
  // Like ASLR: where the heap starts says nothing, and differs from process to process.
  private next = 0x1000_0000 + Math.floor(Math.random() * 0x10_0000) * ALIGNMENT;
  private bytes = 0;

  get allocations(): number {
    return this.blocks.size;
  }

  allocate(length: number): { status: Status; address?: number } {
    if (!Number.isInteger(length) || length < 0) return { status: STATUS_INVALID_PARAMETER };
    if (this.bytes + length > MAX_CLIENT_HEAP_BYTES) return { status: STATUS_NO_MEMORY };
    const address = this.next;
    this.next += Math.ceil(Math.max(length, 1) / ALIGNMENT) * ALIGNMENT + ALIGNMENT;
    this.blocks.set(address, new Uint8Array(length));
    this.bytes += length;
    return { status: STATUS_SUCCESS, address };
  }

  /** Places a copy of `bytes` in the heap (the SSPI library marshalling an argument for the LSA). */
  place(bytes: Uint8Array): number {
    const { address } = this.allocate(bytes.byteLength);
    if (address === undefined) throw new RangeError('client heap exhausted');
    this.blocks.get(address)!.set(bytes);
    return address;
  }

  free(address: number): Status {
    const block = this.blocks.get(address);
    if (block === undefined) return STATUS_INVALID_PARAMETER;
    block.fill(0); // what was marshalled here (a password) does not linger
    this.bytes -= block.byteLength;
    this.blocks.delete(address);
    return STATUS_SUCCESS;
  }

  read(address: number, length: number): { status: Status; bytes?: Uint8Array } {
    const located = this.locate(address, length);
    if (located === undefined) return { status: STATUS_ACCESS_VIOLATION };
    const [block, offset] = located;
    return { status: STATUS_SUCCESS, bytes: block.slice(offset, offset + length) };
  }

  write(address: number, bytes: Uint8Array): Status {
    const located = this.locate(address, bytes.byteLength);
    if (located === undefined) return STATUS_ACCESS_VIOLATION;
    const [block, offset] = located;
    block.set(bytes, offset);
    return STATUS_SUCCESS;
  }

  /** The block containing [address, address + length) and the offset in it. */
  private locate(address: number, length: number): [Uint8Array, number] | undefined {
    if (!Number.isInteger(address) || !Number.isInteger(length) || length < 0) return undefined;
    for (const [base, block] of this.blocks) {
      if (address >= base && address + length <= base + block.byteLength) return [block, address - base];
    }
    return undefined;
  }
}
