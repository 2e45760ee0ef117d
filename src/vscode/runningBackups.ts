/**
 * The backups this window runs, so that closing or reloading the window stops them the way a
 * cancel does (record FAILED with why, lock released, helpers removed, auth store unpaused)
 * instead of leaving them to the lock's lease. VS Code gives an extension host about 5 s to
 * shut down; what does not finish in time ends as a SIGKILLed run does: the lock's lease
 * lapses and the tree marks the record interrupted (reconcile.ts).
 */
import { WINDOW_CLOSED } from '../core/engine/runBackup';

/** Under VS Code's ~5 s shutdown budget, leaving time to close the SSH sessions afterwards. */
export const STOP_ON_CLOSE_WAIT_MS = 4_000;

export class RunningBackups {
  private readonly runs = new Map<AbortController, Promise<unknown>>();

  /** Registers a run for the window's life; the controller is what its cancel button aborts. */
  track<T>(abort: AbortController, run: Promise<T>): Promise<T> {
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.runs.set(abort, settled);
    void settled.then(() => this.runs.delete(abort));
    return run;
  }

  get count(): number {
    return this.runs.size;
  }

  /** Stops every run as the window closes, waiting up to `waitMs` for them to clean up. Returns how many were still running. */
  async stopAll(waitMs = STOP_ON_CLOSE_WAIT_MS): Promise<number> {
    const pending = [...this.runs.entries()];
    for (const [abort] of pending) abort.abort(WINDOW_CLOSED);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)));
    await Promise.race([Promise.all(pending.map(([, done]) => done)), timeout]);
    clearTimeout(timer);
    return this.runs.size;
  }
}
