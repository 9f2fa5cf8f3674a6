import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serveFunction, type ServedFunction } from '#local/functions-host/serve-function';
import type { FunctionSpec } from '#shared/topology';

const REPO_ROOT = join(__dirname, '..', '..');

/**
 * Loads each function's module (functions/<source>/index.ts registers it with the functions
 * framework) and serves it on 127.0.0.1. The process environment must already hold the
 * function's configuration: functions parse it once, when they load.
 * A function whose source folder does not exist yet is reported, not fatal, so the stack runs
 * with the parts that are there.
 */
export async function serveFunctions(
  functions: FunctionSpec[],
  project: string,
): Promise<{ served: ServedFunction[]; missing: string[] }> {
  const served: ServedFunction[] = [];
  const missing: string[] = [];
  try {
    for (const fn of functions) {
      if (!existsSync(join(REPO_ROOT, 'functions', fn.source, 'index.ts')) && !existsSync(join(REPO_ROOT, 'functions', fn.source, 'index.js'))) {
        missing.push(fn.name);
        continue;
      }
      await import(`#functions/${fn.source}/index`);
      const pubsubSource = fn.trigger.kind === 'pubsub' ? `projects/${project}/topics/${fn.trigger.topic}` : undefined;
      served.push(await serveFunction(fn.name, { pubsubSource }));
    }
  } catch (err) {
    await Promise.all(served.map((s) => s.close()));
    throw err;
  }
  return { served, missing };
}
