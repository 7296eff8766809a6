// Replay and sequence detection for incoming per-message tokens (RFC 4121 4.2.3; MIT's g_seqstate),
// with SSPI's answers: a token whose number was seen, or is too old to tell, is a replay; one that
// skips ahead or comes back is out of sequence. Both are SEC_E_OUT_OF_SEQUENCE, as Windows answers.
//
//   sequence detection (ISC_REQ_SEQUENCE_DETECT): the numbers must come exactly in order
//   replay detection only (ISC_REQ_REPLAY_DETECT): gaps are fine, a number twice is not (a window
//     of the last 64 numbers below the highest one seen; older ones are refused as possible replays)
//   neither: every number is taken
//
// The state changes only for a token that is taken, so a refused one (or one whose MAC failed
// before it got here) leaves the stream where it was. Numbers are 64-bit (RFC 4121's SND_SEQ).

const WINDOW = 64n;
const MASK64 = (1n << 64n) - 1n;

export type SequenceVerdict = 'ok' | 'replay' | 'out-of-sequence';

export class SequenceWindow {
  /** The next number expected: one past the highest taken. */
  private next: bigint;
  /** Bit i set: next - 1 - i was taken (replay detection only). */
  private seen = 0n;
  readonly replay: boolean;
  readonly sequence: boolean;

  constructor(first: bigint, options: { replay: boolean; sequence: boolean }) {
    this.next = first & MASK64;
    this.replay = options.replay;
    this.sequence = options.sequence;
  }

  /** Where the stream is: the next expected number, and the bits of the window (for export). */
  state(): { next: bigint; seen: bigint } {
    return { next: this.next, seen: this.seen };
  }

  static resume(state: { next: bigint; seen: bigint }, options: { replay: boolean; sequence: boolean }): SequenceWindow {
    const w = new SequenceWindow(state.next, options);
    w.seen = state.seen & MASK64;
    return w;
  }

  /** What a token numbered `seq` is; `take` records it when it is ok. */
  check(seq: bigint): SequenceVerdict {
    if (!this.replay && !this.sequence) return 'ok';
    if (this.sequence) return seq === this.next ? 'ok' : seq < this.next ? 'replay' : 'out-of-sequence';
    if (seq >= this.next) return 'ok';
    const back = this.next - 1n - seq;
    if (back >= WINDOW) return 'replay';
    return (this.seen >> back) & 1n ? 'replay' : 'ok';
  }

  take(seq: bigint): void {
    if (!this.replay && !this.sequence) {
      if (seq >= this.next) this.next = (seq + 1n) & MASK64;
      return;
    }
    if (seq >= this.next) {
      const shift = seq - this.next + 1n;
      this.seen = shift >= WINDOW ? 1n : ((this.seen << shift) | 1n) & MASK64;
      this.next = (seq + 1n) & MASK64;
    } else {
      this.seen |= 1n << (this.next - 1n - seq);
    }
  }
}
