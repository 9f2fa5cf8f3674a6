import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface LocalFile {
  /** absolute path on this machine */
  path: string;
  /** path relative to the folder it was listed from, with forward slashes */
  relative: string;
  size: number;
}

/** Every regular file under `root`, recursively, in a stable order. Hidden files are left out. */
export function listFiles(root: string): LocalFile[] {
  const out: LocalFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push({ path: full, relative: relative(root, full).split(sep).join('/'), size: statSync(full).size });
    }
  };
  walk(root);
  return out;
}
