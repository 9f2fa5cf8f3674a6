import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stackFilePath } from '#local/stack/stack-file';
import { makeModelFixtures } from './model-fixtures';
import { cliEnv, runCli } from './run-cli';

/**
 * The failure path of every command, run as a user runs them (bin/dropship in a child process):
 * bad flags (exit 2), a missing folder (exit 2), a model that fails validation (exit 1), and no
 * local stack running (exit 1, saying how to start it). No stack is started here; failures that
 * need a running stack are exercised by the end-to-end test.
 */
const NOT_RUNNING = 'the local stack is not running: start it with `npx dropship up`';

let fixtures: ReturnType<typeof makeModelFixtures>;
let empty: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  fixtures = makeModelFixtures();
  empty = mkdtempSync(join(tmpdir(), 'dropship-cli-nostack-'));
  env = cliEnv({ DROPSHIP_DATA: empty });
});

afterAll(() => {
  fixtures.cleanup();
  rmSync(empty, { recursive: true, force: true });
});

const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...env, ...extraEnv } });

describe('the dispatcher', () => {
  test.concurrent('an unknown command is bad usage and lists the commands', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command: frobnicate');
    expect(r.stderr).toContain('deploy');
  });
});

describe('up', () => {
  test.concurrent('a bad flag value is bad usage', async () => {
    const r = await cli(['up', '--lro-delay-ms', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--lro-delay-ms must be a whole number');
  });

  test.concurrent('missing prerequisites are named, with how to install them', async () => {
    // A PATH with only what bin/dropship itself needs: no java, no gcloud.
    const bin = mkdtempSync(join(tmpdir(), 'dropship-cli-path-'));
    for (const tool of ['bash', 'readlink', 'dirname']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    try {
      const r = await cli(['up', '--data', join(empty, 'up')], { PATH: bin });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('prerequisites are missing');
      expect(r.stderr).toMatch(/java .*is not on PATH/);
      expect(r.stderr).toMatch(/gcloud is not on PATH/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('deploy', () => {
  test.concurrent('without --version is bad usage', async () => {
    const r = await cli(['deploy', fixtures.good, '--model', 'digits']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--version <name>' not specified");
  });

  test.concurrent('a model name Vertex AI would refuse is bad usage', async () => {
    const r = await cli(['deploy', fixtures.good, '--model', 'Digits_1', '--version', 'v1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--model 'Digits_1' is not a model name");
  });

  test.concurrent('a missing folder is bad usage', async () => {
    const r = await cli(['deploy', join(empty, 'no-such-model'), '--model', 'digits', '--version', 'v1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such folder');
  });

  test.concurrent('a folder that is not a whole SavedModel fails, naming what is missing', async () => {
    const r = await cli(['deploy', fixtures.partial, '--model', 'digits', '--version', 'v1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing variables/variables.index');
  });

  test.concurrent('a SavedModel with the wrong signature fails before anything is uploaded', async () => {
    const r = await cli(['deploy', fixtures.wrongSignature, '--model', 'digits', '--version', 'v1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("output 'label' has dtype DT_INT64, expected DT_STRING");
    expect(r.stderr).not.toContain('uploading');
  });

  test.concurrent('an invalid deploy.json fails with the schema error', async () => {
    const r = await cli(['deploy', fixtures.badDeployJson, '--model', 'digits', '--version', 'v1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deploy.json is invalid: traffic');
  });

  test.concurrent('a valid model with no stack running says how to start one', async () => {
    const r = await cli(['deploy', fixtures.good, '--model', 'digits', '--version', 'v1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(NOT_RUNNING);
  });

  test.concurrent('on Google Cloud without a models bucket it says which flag or variable to set', async () => {
    const r = await cli(['deploy', fixtures.good, '--model', 'digits', '--version', 'v1', '--project', 'demo-nowhere']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no models bucket: pass --models-bucket or set MODELS_BUCKET');
  });
});

describe('label', () => {
  test.concurrent('without --job is bad usage', async () => {
    const r = await cli(['label', fixtures.good]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--job <name>' not specified");
  });

  test.concurrent('a missing file is bad usage', async () => {
    const r = await cli(['label', join(empty, 'no-such-image.png'), '--job', 'j1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such file or folder');
  });

  test.concurrent('with no stack running it says how to start one', async () => {
    const r = await cli(['label', join(fixtures.good, 'config.json'), '--job', 'j1', '--model', 'digits']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(NOT_RUNNING);
  });
});

describe('status', () => {
  test.concurrent('an unknown flag is bad usage', async () => {
    const r = await cli(['status', '--everything']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--everything'");
  });

  test.concurrent('with no stack running it says how to start one', async () => {
    const r = await cli(['status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(NOT_RUNNING);
  });

  test.concurrent('a stack.json left by a stack that is gone is not taken for a running stack', async () => {
    const data = join(empty, 'stale');
    mkdirSync(data, { recursive: true });
    // pid 2^22 + 1 is above Linux's pid_max ceiling: no such process can exist.
    writeFileSync(
      stackFilePath(data),
      JSON.stringify({
        pid: 4194305,
        processGroups: [],
        startedAt: '2026-01-01T00:00:00Z',
        readyAt: '2026-01-01T00:00:01Z',
        dataDir: data,
        project: 'demo-dropship',
        region: 'us-central1',
        controlUrl: 'http://127.0.0.1:9/',
        pubsubEmulatorHost: '127.0.0.1:9',
        firestoreEmulatorHost: '127.0.0.1:9',
        storage: { url: 'http://127.0.0.1:9', dataDir: data },
        vertex: { endpoint: '127.0.0.1:9' },
        buckets: { models: 'm', images: 'i' },
        topics: {},
        functions: {},
      }),
    );
    const r = await cli(['status', '--data', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(NOT_RUNNING);
    expect(r.stderr).toContain('process 4194305 is gone');
  });
});

describe('results', () => {
  test.concurrent('--json and --format together are bad usage', async () => {
    const r = await cli(['results', 'j1', '--json', '--format', 'csv']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--json and --format are alternatives');
  });

  test.concurrent('an unknown format is bad usage', async () => {
    const r = await cli(['results', 'j1', '--format', 'xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Allowed choices are csv, jsonl');
  });

  test.concurrent('with no stack running it says how to start one', async () => {
    const r = await cli(['results', 'j1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(NOT_RUNNING);
  });
});

describe('promote and rollback', () => {
  test.concurrent('promote without a version is bad usage', async () => {
    const r = await cli(['promote', 'digits']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required argument 'version'");
  });

  test.concurrent('promote with no stack running says how to start one', async () => {
    const r = await cli(['promote', 'digits', 'v2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(NOT_RUNNING);
  });

  test.concurrent('rollback of a name that cannot be a model is bad usage', async () => {
    const r = await cli(['rollback', 'No_Such']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'No_Such' is not a model name");
  });

  test.concurrent('rollback with no stack running says how to start one', async () => {
    const r = await cli(['rollback', 'digits']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(NOT_RUNNING);
  });
});
