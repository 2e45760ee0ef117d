/**
 * Where a backup's time goes: named phases, measured end to end, in the log ("timing: …")
 * and in the record (`timingsMs`, shown by `ucp-backup backup --json`). Phases are sequential:
 * each mark() ends the phase that started at the previous one, so the parts add up to the run.
 */
export class StepTimer {
  private last = performance.now();
  private readonly start = this.last;
  readonly phases: Record<string, number> = {};

  /** Ends the phase running since the previous mark, under `name` (repeated names add up). */
  mark(name: string): number {
    const now = performance.now();
    const ms = now - this.last;
    this.last = now;
    this.phases[name] = Math.round((this.phases[name] ?? 0) + ms);
    return ms;
  }

  get totalMs(): number {
    return Math.round(performance.now() - this.start);
  }

  /** One log line: the phases in order, then the total. */
  summary(): string {
    return `${Object.entries(this.phases).map(([k, v]) => `${k} ${v} ms`).join(', ')}; total ${this.totalMs} ms`;
  }
}
