import { SeededRandom } from '#local/model-build/seeded-random';

/**
 * Randomness in tests, made repeatable. Each use names itself; its seed comes from TEST_SEED
 * when set (to replay a failure), else from the name (so every run draws the same). Put the
 * seed where a failure prints it: in the describe/it title (`seedTitle`), or around the test
 * body (`withSeed`), which adds it to the error.
 */
export interface TestRandom {
  readonly seed: number;
  readonly label: string;
  /** uniform in [0, 1), the shape `() => number` random sources take */
  next: () => number;
  shuffled<T>(items: readonly T[]): T[];
}

export function testRandom(label: string): TestRandom {
  const fromEnv = process.env.TEST_SEED;
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : hash(label);
  const gen = new SeededRandom(seed);
  return {
    seed,
    label,
    next: () => gen.next(),
    shuffled: (items) => gen.shuffle([...items]),
  };
}

/** "<title> (seed N)": a failing test's name then says how to replay it (TEST_SEED=N). */
export function seedTitle(title: string, rng: TestRandom): string {
  return `${title} (seed ${rng.seed})`;
}

/** Runs `fn`; a failure is rethrown with the seed and the way to replay it appended. */
export async function withSeed<T>(rng: TestRandom, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const note = `\n(random draws of "${rng.label}" used seed ${rng.seed}; replay with TEST_SEED=${rng.seed})`;
    if (err instanceof Error) {
      err.message += note;
      throw err;
    }
    throw new Error(`${String(err)}${note}`);
  }
}

/** FNV-1a of the label: a stable seed per use. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
