import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * The import boundaries of biome.jsonc, held by linting sample files at the paths they would have
 * in the repo. The samples are written into a scratch folder beside a copy of the repo's
 * biome.jsonc (the overrides match paths relative to the config) and linted in one Biome run.
 * Each forbidden sample must get the boundary rule's diagnostic; each allowed one must get none.
 * Every sample also carries a `debugger` statement, so each file shows it was linted at all
 * (an allowed sample that Biome skipped would otherwise pass unseen).
 */

const REPO = resolve(__dirname, '../../..');
const BIOME = join(REPO, 'node_modules/@biomejs/biome/bin/biome');
const BOUNDARY_RULES = ['lint/style/noRestrictedImports', 'lint/style/noRestrictedGlobals'];
const PROBE = 'export function probe(): void {\n  debugger;\n}\n';
const PROBE_RULE = 'lint/suspicious/noDebugger';

interface Sample {
  /** where the file would be in the repo */
  path: string;
  source: string;
  /** a phrase of the boundary diagnostic it must get; undefined: it must get none */
  flagged?: string;
}

const LOCAL = 'must not import local/';
const TEST = 'must not import test/';
const LOCAL_TEST = 'local/ must not import test/';
const GOOGLE = 'never imports Google client libraries';
const NATIVE = 'never imports native image or inference libraries';
const IO = 'The core does no I/O';
const ADAPTERS = 'never on adapters';
const REQUIRE = 'global variable require';

const FORBIDDEN: Array<[string, Sample]> = [
  // the core: no Google clients, native libraries or I/O, under any shared/*/core/ (existing or not)
  ['core imports @google-cloud/storage', { path: 'shared/deployment/core/a.ts', source: "import { Storage } from '@google-cloud/storage';\nexport const s = new Storage();\n", flagged: GOOGLE }],
  [
    'core imports a type from @google-cloud/firestore',
    { path: 'shared/labeling/core/a.ts', source: "import type { Firestore } from '@google-cloud/firestore';\nexport type F = Firestore;\n", flagged: GOOGLE },
  ],
  [
    'core re-exports from @google/events',
    { path: 'shared/labeling/core/b.ts', source: "export type { StorageObjectData } from '@google/events/cloud/storage/v1/StorageObjectData';\n", flagged: GOOGLE },
  ],
  ['core imports @grpc/grpc-js', { path: 'shared/deployment/core/b.ts', source: "import { status } from '@grpc/grpc-js';\nexport const NOT_FOUND = status.NOT_FOUND;\n", flagged: GOOGLE }],
  ['core imports sharp', { path: 'shared/labeling/core/c.ts', source: "import sharp from 'sharp';\nexport const resize = (b: Buffer) => sharp(b).resize(224).toBuffer();\n", flagged: NATIVE }],
  ['core loads onnxruntime-node with import()', { path: 'shared/labeling/core/d.ts', source: "export const ort = () => import('onnxruntime-node');\n", flagged: NATIVE }],
  ['core imports node:fs/promises', { path: 'shared/deployment/core/c.ts', source: "import { readFile } from 'node:fs/promises';\nexport const read = (p: string) => readFile(p);\n", flagged: IO }],
  [
    'core imports fs without the node: prefix',
    { path: 'shared/deployment/core/d.ts', source: "import { readFileSync } from 'fs';\nexport const read = (p: string) => readFileSync(p);\n", flagged: IO },
  ],
  ['core imports node:http', { path: 'shared/deployment/core/e.ts', source: "import { request } from 'node:http';\nexport { request };\n", flagged: IO }],
  ['core imports node:child_process', { path: 'shared/deployment/core/f.ts', source: "import { spawn } from 'node:child_process';\nexport { spawn };\n", flagged: IO }],
  ['core imports node:worker_threads', { path: 'shared/labeling/core/e.ts', source: "import { Worker } from 'node:worker_threads';\nexport { Worker };\n", flagged: IO }],
  [
    'core imports an adapter',
    { path: 'shared/deployment/core/g.ts', source: "import { vertexDeployer } from '#shared/deployment/adapters/vertex-deployer';\nexport { vertexDeployer };\n", flagged: ADAPTERS },
  ],
  ['a core folder nested deeper', { path: 'shared/deployment/core/sub/a.ts', source: "import { PubSub } from '@google-cloud/pubsub';\nexport { PubSub };\n", flagged: GOOGLE }],
  ['a core folder that does not exist yet', { path: 'shared/billing/core/a.ts', source: "import { BigQuery } from '@google-cloud/bigquery';\nexport { BigQuery };\n", flagged: GOOGLE }],
  ['the cost model imports node:fs', { path: 'shared/labeling/cost/a.ts', source: "import { readFileSync } from 'node:fs';\nexport const prices = () => readFileSync('prices.json');\n", flagged: IO }],
  ['the message contract imports @google-cloud/pubsub', { path: 'shared/messages/a.ts', source: "import type { Message } from '@google-cloud/pubsub';\nexport type M = Message;\n", flagged: GOOGLE }],
  [
    'core imports local/ (the deployed-code rule holds in the core too)',
    { path: 'shared/deployment/core/h.ts', source: "import { startStack } from '#local/stack/start-stack';\nexport { startStack };\n", flagged: LOCAL },
  ],
  // deployed code: functions/ and shared/ never import local/ or test/
  ['shared imports #local/*', { path: 'shared/labeling/a.ts', source: "import { encodeDigit } from '#local/model-build/mnist-digits';\nexport { encodeDigit };\n", flagged: LOCAL }],
  [
    'shared imports local/ by a relative path',
    { path: 'shared/labeling/adapters/a.ts', source: "import { encodeDigit } from '../../../local/model-build/mnist-digits';\nexport { encodeDigit };\n", flagged: LOCAL },
  ],
  ['shared imports #test/*', { path: 'shared/deployment/a.ts', source: "import { seededRandom } from '#test/support/seeded-random';\nexport { seededRandom };\n", flagged: TEST }],
  ['a function imports #local/*', { path: 'functions/model-drop/a.ts', source: "export { startVertexEmulator } from '#local/vertex-emulator/start';\n", flagged: LOCAL }],
  [
    'a function imports test/ by a relative path',
    { path: 'functions/image-intake/a.ts', source: "import { cameraPhotoOfDigit } from '../../test/integration/labeling/image-fixtures';\nexport { cameraPhotoOfDigit };\n", flagged: TEST },
  ],
  ['a function loads local/ with import()', { path: 'functions/reconciler/a.ts', source: "export const load = () => import('../../local/stack/start-stack');\n", flagged: LOCAL }],
  ['deployed code calls require()', { path: 'shared/labeling/b.ts', source: "export const lib = require('../../local/stack/start-stack');\n", flagged: REQUIRE }],
  // local/ never imports test/
  [
    'local imports #test/*',
    { path: 'local/bench/a.ts', source: "import { cameraPhotoOfDigit } from '#test/integration/labeling/image-fixtures';\nexport { cameraPhotoOfDigit };\n", flagged: LOCAL_TEST },
  ],
  [
    'local imports test/ by a relative path',
    { path: 'local/stack/a.ts', source: "import { heldOutDigits } from '../../test/support/mnist-digits';\nexport { heldOutDigits };\n", flagged: LOCAL_TEST },
  ],
];

const ALLOWED: Array<[string, Sample]> = [
  [
    'core imports zod, node:crypto and a port',
    {
      path: 'shared/deployment/core/ok.ts',
      source:
        "import { createHash } from 'node:crypto';\nimport { z } from 'zod';\nimport type { VersionRecord } from '#shared/deployment/ports';\nexport const key = (s: string) => createHash('sha256').update(s).digest('hex');\nexport const schema = z.string();\nexport type R = VersionRecord;\n",
    },
  ],
  [
    'core imports its neighbours',
    { path: 'shared/labeling/core/ok.ts', source: "import { parseGsUri } from './gs-uri';\nimport { classifyObject } from '../core/object-kind';\nexport { parseGsUri, classifyObject };\n" },
  ],
  [
    'core imports a folder whose name only contains "local" or "test"',
    { path: 'shared/deployment/core/ok2.ts', source: "import { a } from './locality';\nimport { b } from '../contest';\nexport { a, b };\n" },
  ],
  [
    'an adapter imports @google-cloud/firestore and sharp',
    {
      path: 'shared/labeling/adapters/ok.ts',
      source: "import { Firestore } from '@google-cloud/firestore';\nimport sharp from 'sharp';\nexport const clients = () => ({ db: new Firestore(), sharp });\n",
    },
  ],
  ['shared outside a core reads files', { path: 'shared/savedmodel/ok.ts', source: "import { readFile } from 'node:fs/promises';\nexport const read = (p: string) => readFile(p);\n" }],
  [
    'a function imports #shared/* and the functions framework',
    {
      path: 'functions/model-drop/ok.ts',
      source: "import { cloudEvent } from '@google-cloud/functions-framework';\nimport { handleArtifactEvent } from '#shared/deployment/drop-model';\nexport { cloudEvent, handleArtifactEvent };\n",
    },
  ],
  [
    'local imports shared/, functions/ and local/',
    {
      path: 'local/stack/ok.ts',
      source:
        "import { TOPOLOGY } from '#shared/topology';\nimport { encodeDigit } from '#local/model-build/mnist-digits';\nimport { handler } from '../../functions/model-drop/handler';\nexport { TOPOLOGY, encodeDigit, handler };\n",
    },
  ],
  ['local calls require()', { path: 'local/model/ok.ts', source: "export const ort = require('onnxruntime-node');\n" }],
  [
    'test imports local/ and test/',
    {
      path: 'test/unit/ok.test.ts',
      source:
        "import { encodeDigit } from '#local/model-build/mnist-digits';\nimport { seededRandom } from '#test/support/seeded-random';\nimport { startStack } from '../../local/stack/start-stack';\nexport { encodeDigit, seededRandom, startStack };\n",
    },
  ],
];

interface Diagnostic {
  category: string;
  message: string;
}

let scratch: string;
const byFile = new Map<string, Diagnostic[]>();

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'dropship-lint-'));
  await copyFile(join(REPO, 'biome.jsonc'), join(scratch, 'biome.jsonc'));
  for (const [, s] of [...FORBIDDEN, ...ALLOWED]) {
    await mkdir(join(scratch, dirname(s.path)), { recursive: true });
    await writeFile(join(scratch, s.path), `${s.source}${PROBE}`);
  }
  // Exit code 1 is expected: the forbidden samples are errors. Lint only: the samples' formatting is not the point.
  const stdout = await promisify(execFile)(process.execPath, [BIOME, 'lint', '--vcs-enabled=false', '--reporter=json', '--max-diagnostics=none', '.'], { cwd: scratch, maxBuffer: 16 << 20 }).then(
    (r) => r.stdout,
    (err: { stdout?: string; stderr?: string }) => {
      if (!err.stdout) throw new Error(`biome lint printed no report: ${err.stderr ?? String(err)}`);
      return err.stdout;
    },
  );
  const report = JSON.parse(stdout) as { diagnostics: Array<{ category?: string; message: unknown; location?: { path?: string | { file?: string } } }> };
  for (const d of report.diagnostics) {
    const p = d.location?.path;
    const file = (typeof p === 'string' ? p : (p?.file ?? '')).replace(/\\/g, '/');
    const list = byFile.get(file) ?? [];
    list.push({ category: d.category ?? '', message: typeof d.message === 'string' ? d.message : JSON.stringify(d.message) });
    byFile.set(file, list);
  }
}, 60_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const boundaryDiagnostics = (path: string) => (byFile.get(path) ?? []).filter((d) => BOUNDARY_RULES.includes(d.category));

describe('import boundaries (biome.jsonc)', () => {
  it.each([...FORBIDDEN, ...ALLOWED])('lints the sample: %s', (_, sample) => {
    expect((byFile.get(sample.path) ?? []).map((d) => d.category)).toContain(PROBE_RULE);
  });

  it.each(FORBIDDEN)('flags: %s', (_, sample) => {
    const found = boundaryDiagnostics(sample.path);
    expect(found).toEqual([expect.objectContaining({ message: expect.stringContaining(sample.flagged!) })]);
  });

  it.each(ALLOWED)('allows: %s', (_, sample) => {
    expect(boundaryDiagnostics(sample.path)).toEqual([]);
  });
});
