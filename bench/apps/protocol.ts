// What the benchmark's client and server applications say over their connection: many
// handshakes multiplexed on one connection, told apart by an id.

export type BenchMessage =
  | { kind: 'token'; id: number; token: Uint8Array }
  | { kind: 'accepted'; id: number; token?: Uint8Array }
  | { kind: 'failed'; id: number; status: number }
  | { kind: 'done' };
