/** A clock the test moves: `sleep` advances it at once (and is recorded), nothing waits for real. */
export class FakeClock {
  private t: number;
  readonly sleeps: number[] = [];

  constructor(start = '2026-12-01T10:00:00.000Z') {
    this.t = Date.parse(start);
  }

  now(): Date {
    return new Date(this.t);
  }

  /** a sleep moves the clock by its length, and by at least 1 ms, as a real sleep(0) does */
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += Math.max(1, ms);
  }

  advance(ms: number): void {
    this.t += ms;
  }
}

/** The same, for ports whose clock speaks epoch milliseconds (the labeling side's Clock). */
export class FakeMsClock {
  private t: number;
  readonly sleeps: number[] = [];
  /** runs on every sleep, after the clock moved: what "meanwhile" happens elsewhere */
  onSleep?: () => void | Promise<void>;

  constructor(start = Date.parse('2026-12-01T10:00:00.000Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += Math.max(1, ms);
    await this.onSleep?.();
  }

  advance(ms: number): void {
    this.t += ms;
  }
}
