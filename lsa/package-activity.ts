// The calls running in one loaded version of a package, so that unloading it (UnloadPackage, a
// reload) waits until they have returned before it closes the version's handles and calls its
// SpShutdown: a package is never shut down under a call of its own. Every package call has a
// deadline (packageCallTimeoutMs), so the wait ends; `idle` has one of its own for an LSA whose
// calls have none.

export class PackageActivity {
  private running = 0;
  private readonly waiters = new Set<() => void>();

  get inFlight(): number {
    return this.running;
  }

  enter(): void {
    this.running++;
  }

  leave(): void {
    if (--this.running > 0) return;
    this.running = 0;
    for (const wake of [...this.waiters]) wake();
  }

  /** Settles when no call runs (at once when none does), or after `ms`; answers how many still run. */
  idle(ms: number): Promise<number> {
    if (this.running === 0) return Promise.resolve(0);
    return new Promise<number>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.running);
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}
