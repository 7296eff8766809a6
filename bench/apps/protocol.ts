// What the benchmark's client and server applications say over their connection: many
// handshakes multiplexed on one connection, told apart by an id.

export type BenchMessage =
  /** `measured`: the client measures this handshake (begun in its window), so the server times its calls too. */
  | { kind: 'token'; id: number; token: Uint8Array; measured?: true }
  | { kind: 'accepted'; id: number; token?: Uint8Array }
  | { kind: 'failed'; id: number; status: number }
  | { kind: 'done' };
