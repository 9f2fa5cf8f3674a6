import { resolve } from 'node:path';

/**
 * The folder the local stack keeps everything in: --data, else DROPSHIP_DATA, else ./.dropship
 * in the working directory. Other commands find the running stack through it.
 */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag || env.DROPSHIP_DATA || '.dropship');
}
