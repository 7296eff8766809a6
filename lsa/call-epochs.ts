// The calls running in the LSA, by the epoch they began in, so that unloading a package version
// (UnloadPackage, a reload) waits for every call that began before the version left the package
// list: any of them may have found it, and goes on to make handles for it once its entry point
// returns. Calls that begin later cannot reach it (the lookups check the version). Every package
// call has a deadline (packageCallTimeoutMs), so the wait ends; `settled` has one of its own for
// an LSA whose calls have none.

export class CallEpochs {
  private epoch = 0;
  /** Calls running that began in the current epoch (every LPC call counts here: a field, not a map entry). */
  private current = 0;
  /** Calls still running that began in earlier epochs, by epoch. */
  private readonly running = new Map<number, number>();
  private readonly waiters = new Set<{ upTo: number; wake: () => void }>();

  /** A call begins in the current epoch; the function it returns ends it (once). */
  begin(): () => void {
    const epoch = this.enter();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.leave(epoch);
    };
  }

  /**
   * begin() for a caller that ends the call exactly once itself: the epoch it began in, to give
   * to leave(). (The LSA's dispatch does, for every LPC call: no closure per call.)
   */
  enter(): number {
    this.current++;
    return this.epoch;
  }

  /** Ends a call enter() began in `epoch`. */
  leave(epoch: number): void {
    if (epoch === this.epoch) this.current--;
    else {
      const left = this.running.get(epoch)! - 1;
      if (left === 0) this.running.delete(epoch);
      else this.running.set(epoch, left);
    }
    // Every LPC call ends here: nothing more to do unless an unload waits.
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) if (this.before(waiter.upTo) === 0) waiter.wake();
  }

  /** Starts a new epoch; answers the one that ended (settled() waits for its calls and older ones). */
  advance(): number {
    if (this.current > 0) this.running.set(this.epoch, this.current);
    this.current = 0;
    return this.epoch++;
  }

  /** Settles when no call begun in `upTo` or before runs (at once when none does), or after `ms`: how many still run. */
  settled(upTo: number, ms: number): Promise<number> {
    if (this.before(upTo) === 0) return Promise.resolve(0);
    return new Promise<number>((resolve) => {
      const waiter = {
        upTo,
        wake: (): void => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(this.before(upTo));
        },
      };
      const timer = setTimeout(waiter.wake, ms);
      this.waiters.add(waiter);
    });
  }

  /** Calls running that began in `upTo` or before. */
  private before(upTo: number): number {
    let n = this.epoch <= upTo ? this.current : 0;
    for (const [epoch, count] of this.running) if (epoch <= upTo) n += count;
    return n;
  }
}
