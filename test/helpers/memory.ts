// Reads this OS process's own memory, as code running in any of its threads can (Linux's
// /proc/self/mem), looking for a secret. The secret is given masked (secret XOR mask) and is never
// put together here: only its first four bytes are, for a fast native search, and the rest is
// compared through the mask, so that a hit means the secret is in memory for some other reason.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export interface MemoryScan {
  found: boolean;
  /** Bytes read, and regions read (mapped and readable), or skipped because the kernel refused them. */
  bytes: number;
  regions: number;
  refused: number;
}

const CHUNK = 16 * 1024 * 1024;

/** Whether /proc/self/mem can be read here (Linux, and a kernel that lets a process read itself). */
export function canReadOwnMemory(): boolean {
  try {
    readFileSync('/proc/self/maps', 'utf8');
    const fd = openSync('/proc/self/mem', 'r');
    closeSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** Scans every readable mapping of this process for `masked XOR mask` (both of one length, at least 8 bytes). */
export function scanOwnMemory(masked: Uint8Array, mask: Uint8Array): MemoryScan {
  const length = masked.byteLength;
  const head = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) head[i] = masked[i]! ^ mask[i]!;
  const buffer = Buffer.alloc(CHUNK + length);
  const scan: MemoryScan = { found: false, bytes: 0, regions: 0, refused: 0 };
  const fd = openSync('/proc/self/mem', 'r');
  try {
    for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const [range, perms, , , , path] = line.split(/\s+/);
      if (range === undefined || perms === undefined || perms[0] !== 'r') continue;
      if (path === '[vvar]' || path === '[vsyscall]') continue;
      const [start, end] = range.split('-').map((h) => parseInt(h, 16)) as [number, number];
      scan.regions++;
      // Chunks overlap by length - 1 bytes, so that a secret across a chunk's end is seen.
      for (let at = start; at < end; at += CHUNK) {
        const want = Math.min(CHUNK + length - 1, end - at);
        let got: number;
        try {
          got = readSync(fd, buffer, 0, want, at);
        } catch {
          scan.refused++;
          break;
        }
        scan.bytes += Math.min(got, CHUNK);
        if (holds(buffer.subarray(0, got), head, masked, mask)) {
          scan.found = true;
          return scan;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return scan;
}

function holds(region: Buffer, head: Buffer, masked: Uint8Array, mask: Uint8Array): boolean {
  const length = masked.byteLength;
  for (let i = region.indexOf(head); i >= 0 && i + length <= region.byteLength; i = region.indexOf(head, i + 1)) {
    let j = 4;
    while (j < length && (region[i + j]! ^ mask[j]!) === masked[j]) j++;
    if (j === length) return true;
  }
  return false;
}
