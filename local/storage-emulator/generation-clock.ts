/**
 * Generations as Cloud Storage makes them: microseconds since the epoch. Strictly increasing
 * within a process, and unique across restarts because the wall clock has moved on.
 * (Microsecond epochs stay below 2^53 until the year 2255, so numbers are exact.)
 */
export class GenerationClock {
  private last = 0;

  next(): string {
    const now = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
    this.last = Math.max(now, this.last + 1);
    return String(this.last);
  }

  /** never hand out a generation at or below one already seen (e.g. loaded from disk) */
  observe(generation: string): void {
    const g = Number(generation);
    if (Number.isFinite(g) && g > this.last) this.last = g;
  }
}
