import { cpuBetween, sampleStackCpu, type CpuSeconds } from './stack-cpu';

/**
 * BENCH_CPU_TIMELINE=SECONDS: what each part of the stack used in each interval of a job, for
 * finding out when in a job a part's CPU goes (a folder job's ingest burst, say). Returns a
 * stop() that gives the lines to print; with the variable unset it samples nothing.
 */
export function cpuTimeline(dataDir: string, upPid: number): { stop(): string[] } {
  const everyS = Number(process.env.BENCH_CPU_TIMELINE ?? 0);
  if (!(everyS > 0)) return { stop: () => [] };
  const t0 = Date.now();
  const samples: Array<{ at: number; cpu: CpuSeconds }> = [{ at: t0, cpu: sampleStackCpu(dataDir, upPid) }];
  const timer = setInterval(() => samples.push({ at: Date.now(), cpu: sampleStackCpu(dataDir, upPid) }), everyS * 1000);
  timer.unref(); // a job that throws never stops it: it must not hold the bench open
  return {
    stop() {
      clearInterval(timer);
      samples.push({ at: Date.now(), cpu: sampleStackCpu(dataDir, upPid) });
      const lines: string[] = [];
      for (let i = 1; i < samples.length; i++) {
        const a = samples[i - 1]!;
        const b = samples[i]!;
        lines.push(`${((a.at - t0) / 1000).toFixed(0)}-${((b.at - t0) / 1000).toFixed(0)} s: ${cpuBetween(a.cpu, b.cpu, 0.05)}`);
      }
      return lines;
    },
  };
}
