import { z } from 'zod';

/**
 * What a function process (./functions-process.ts) is asked to serve, passed in its
 * environment, and what it answers once it listens.
 */
export const servedSpecSchema = z.object({
  name: z.string().min(1),
  source: z.string().min(1),
  /** absent: the process listens on a port the kernel picks, and says which in its ready file */
  port: z.number().int().positive().optional(),
  pubsubSource: z.string().optional(),
});

export type ServedSpec = z.infer<typeof servedSpecSchema>;

export const readyFileSchema = z.object({ pid: z.number().int().positive(), functions: z.record(z.string(), z.string()) });

/** JSON ServedSpec[] */
export const FUNCTIONS_ENV = 'DROPSHIP_FUNCTIONS';
/** a folder: function processes run with --cpu-prof into it, and exit on SIGTERM so the profile is written */
export const CPU_PROF_ENV = 'DROPSHIP_FUNCTIONS_CPU_PROF';
/** where the process writes {pid, functions: {name: url}} once every function listens */
export const READY_FILE_ENV = 'DROPSHIP_FUNCTIONS_READY';
