/**
 * `npm run bench:bundles`: each function's deployable size and module-load time, the old way
 * (compiled dist/shared + dist/functions/<fn> and every root dependency) beside the new one
 * (terraform/scripts/bundle-functions.ts: one esbuild file and only the packages it requires).
 *
 *   node --conditions=source --import tsx local/bench/bundle-figures.ts [--runs 7] [--before-ref <commit>]
 *
 * --before-ref takes the "before" code from a commit (74e39b4: the last one with the old bundler
 * and before the labeling wiring split); without it both sides build the work tree's code.
 *
 * Size = bytes of code shipped + bytes installed by `npm ci` of what package.json lists,
 * summed over the lock's closure from this repo's own node_modules (the same versions; packages
 * for other platforms are not installed here and count as 0, as on the buildpack's machine).
 * Load time = wall time of a fresh `node -e "require(entry)"` (Node 22), median of --runs runs
 * after one warm-up, before and after interleaved. Both layouts are written under
 * dist/bench-bundles/ so their requires resolve to the repo's node_modules.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';
import { TOPOLOGY, type FunctionSpec } from '#shared/topology';
import { bundleFunction, prunedLockfile, readRepoManifests, type PackageJson, type PackageLock } from '../../terraform/scripts/bundle-functions';

const REPO = resolve(__dirname, '..', '..');
const NODE = join(REPO, 'node_modules', '.bin', 'node');
const OUT = join(REPO, 'dist', 'bench-bundles');

interface Layout {
  dir: string;
  entry: string;
  codeBytes: number;
  dependencies: Record<string, string>;
}

/** Bytes of every file under `dir`, not following links, skipping nested node_modules and source maps. */
function treeBytes(dir: string, skipNodeModules = true): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) {
      if (!(skipNodeModules && name === 'node_modules')) total += treeBytes(path, skipNodeModules);
    } else if (st.isFile() && !name.endsWith('.map')) total += st.size;
  }
  return total;
}

/** What `npm ci` installs for `dependencies`, measured on this repo's install of the same lock entries. */
function installedBytes(lock: PackageLock, dependencies: Record<string, string>): { bytes: number; packages: number } {
  const pruned = prunedLockfile(lock, { name: 'probe', version: '0.0.0', dependencies });
  let bytes = 0;
  let packages = 0;
  for (const path of Object.keys(pruned.packages)) {
    const dir = join(REPO, path);
    if (!path || !existsSync(dir)) continue; // the root, or another platform's optional binary
    bytes += treeBytes(dir);
    packages += 1;
  }
  return { bytes, packages };
}

/** The old layout: every shared/ module and the function's folder compiled one file per module. */
/**
 * shared/ and functions/ as of a git commit (read with `git archive`, nothing checked out), so
 * "before" can be the code as it was before the bundler change; the work tree when no ref.
 */
function sourceTree(ref: string | undefined): string {
  if (!ref) return REPO;
  const dir = join(OUT, `src-${ref}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = spawnSync('git', ['archive', '--format=tar', ref, 'shared', 'functions'], { cwd: REPO, maxBuffer: 1 << 28 });
  if (tar.status !== 0) throw new Error(`git archive ${ref}: ${tar.stderr}`);
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: tar.stdout });
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
  return dir;
}

function buildBefore(root: PackageJson, fn: FunctionSpec, src: string): Layout {
  const dir = join(OUT, 'before', fn.name);
  rmSync(dir, { recursive: true, force: true });
  const sources = (folder: string): string[] =>
    readdirSync(join(src, folder), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => join(src, folder, f));
  // the same per-file CommonJS tsc emits (tsconfig.build.json), without the type check
  buildSync({
    absWorkingDir: src,
    entryPoints: [...sources('shared'), ...sources(join('functions', fn.source))],
    outbase: src,
    outdir: join(dir, 'dist'),
    bundle: false,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    logLevel: 'silent',
  });
  const manifest = {
    name: `${root.name}-${fn.name}`,
    version: root.version,
    private: true,
    main: `dist/functions/${fn.source}/index.js`,
    imports: { '#shared/*': './dist/shared/*.js', '#functions/*': './dist/functions/*.js' },
    dependencies: { ...root.dependencies },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { dir, entry: manifest.main, codeBytes: treeBytes(join(dir, 'dist')), dependencies: manifest.dependencies };
}

function buildAfter(root: PackageJson, lock: PackageLock, fn: FunctionSpec): Layout {
  const b = bundleFunction(REPO, root, lock, fn, join(OUT, 'after'));
  return { dir: b.dir, entry: 'index.js', codeBytes: statSync(join(b.dir, 'index.js')).size, dependencies: b.manifest.dependencies ?? {} };
}

/** Wall time of a fresh process that requires the entry, and the require() alone as that process saw it. */
function loadMs(layout: Layout): { wall: number; require: number } {
  const probe = `const t = performance.now(); require(${JSON.stringify('./' + layout.entry)}); process.stdout.write(String(performance.now() - t));`;
  const started = process.hrtime.bigint();
  const r = spawnSync(NODE, ['-e', probe], { cwd: layout.dir, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${layout.dir}: require(${layout.entry}) failed:\n${r.stderr}`);
  return { wall, require: Number(r.stdout) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(bytes >= 1e8 ? 0 : 1);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function main(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string', default: '7' }, 'before-ref': { type: 'string' } } });
  const runs = Math.max(1, Number(values.runs));
  const { root, lock } = readRepoManifests(REPO);
  mkdirSync(OUT, { recursive: true });
  const beforeRef = values['before-ref'];
  const src = sourceTree(beforeRef);
  const rows = [['function', 'code before', 'code after', 'node_modules before', 'node_modules after', 'total before', 'total after', 'load before', 'load after', 'require before', 'require after']];
  const results: Record<string, unknown>[] = [];
  for (const fn of TOPOLOGY.functions) {
    const before = buildBefore(root, fn, src);
    const after = buildAfter(root, lock, fn);
    const depsBefore = installedBytes(lock, before.dependencies);
    const depsAfter = installedBytes(lock, after.dependencies);
    loadMs(before);
    loadMs(after);
    const timesBefore: Array<{ wall: number; require: number }> = [];
    const timesAfter: Array<{ wall: number; require: number }> = [];
    for (let i = 0; i < runs; i++) {
      timesBefore.push(loadMs(before));
      timesAfter.push(loadMs(after));
    }
    const r = {
      fn: fn.name,
      codeBefore: before.codeBytes,
      codeAfter: after.codeBytes,
      modulesBefore: depsBefore,
      modulesAfter: depsAfter,
      loadMsBefore: median(timesBefore.map((t) => t.wall)),
      loadMsAfter: median(timesAfter.map((t) => t.wall)),
      requireMsBefore: median(timesBefore.map((t) => t.require)),
      requireMsAfter: median(timesAfter.map((t) => t.require)),
    };
    results.push(r);
    rows.push([
      fn.name,
      `${mb(r.codeBefore)} MB`,
      `${mb(r.codeAfter)} MB`,
      `${mb(depsBefore.bytes)} MB (${depsBefore.packages})`,
      `${mb(depsAfter.bytes)} MB (${depsAfter.packages})`,
      `${mb(r.codeBefore + depsBefore.bytes)} MB`,
      `${mb(r.codeAfter + depsAfter.bytes)} MB`,
      `${r.loadMsBefore.toFixed(0)} ms`,
      `${r.loadMsAfter.toFixed(0)} ms`,
      `${r.requireMsBefore.toFixed(0)} ms`,
      `${r.requireMsAfter.toFixed(0)} ms`,
    ]);
  }
  process.stdout.write(
    `${table(rows)}\n\nnode_modules: bytes npm ci installs (packages); load: median wall time of ${runs} fresh \`node -e "require(entry)"\` on ${process.version}; require: the require() alone, timed inside that process\nbefore: the code of ${beforeRef ?? 'the work tree'} in the old layout; after: the work tree bundled\n`,
  );
  writeFileSync(join(OUT, 'figures.json'), JSON.stringify({ runs, beforeRef, node: process.version, results }, null, 2) + '\n');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
