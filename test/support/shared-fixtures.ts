import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The repository's root, from test/support/. */
export const REPO_ROOT = join(__dirname, '..', '..');

/**
 * A fixture from the shared/ folder that sits beside the clone (read-only, never copied into
 * the repo): `<repo>/../shared/fixtures/<name>`. Throws, naming the path, when it is absent.
 */
export function sharedFixture(name: string): string {
  const dir = join(REPO_ROOT, '..', 'shared', 'fixtures', name);
  if (!existsSync(dir)) throw new Error(`shared fixture ${name} not found at ${dir}: these tests need shared/ checked out beside the repository`);
  return dir;
}

/** Every file under `dir` as [relative path with '/', bytes]. */
export function folderFiles(dir: string): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push([relative(dir, full).split('\\').join('/'), readFileSync(full)]);
    }
  };
  walk(dir);
  return out;
}
