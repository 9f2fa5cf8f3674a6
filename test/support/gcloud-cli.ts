import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs the Google Cloud CLI the way a user points it at local servers: a throwaway
 * CLOUDSDK_CONFIG, any access token from a file, and API endpoint overrides. Nothing here
 * reaches the network; gcloud is installed from Debian packages on every machine of this kind.
 */
export interface GcloudTarget {
  project: string;
  /** base URL of the Storage emulator, e.g. http://127.0.0.1:4443/ */
  storage?: string;
  /** base URL of the Vertex AI emulator's REST side, e.g. http://127.0.0.1:8081/ */
  aiplatform?: string;
  /** base URL of the Pub/Sub emulator (it answers REST too), e.g. http://127.0.0.1:8085/ */
  pubsub?: string;
}

export interface GcloudResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Whether gcloud is installed; suites that need it say clearly that they skipped when not. */
export function gcloudAvailable(): boolean {
  try {
    execFileSync('gcloud', ['--version'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

export class GcloudCli {
  private readonly configDir = mkdtempSync(join(tmpdir(), 'dropship-gcloud-'));
  private readonly tokenFile = join(this.configDir, 'token');

  constructor(private readonly target: GcloudTarget) {
    writeFileSync(this.tokenFile, 'fake-access-token\n');
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CLOUDSDK_CONFIG: this.configDir,
      CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: this.tokenFile,
      CLOUDSDK_CORE_PROJECT: this.target.project,
      CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
      CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: '1',
      CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: '1',
    };
    if (this.target.storage) env.CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE = withSlash(this.target.storage);
    if (this.target.aiplatform) env.CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM = withSlash(this.target.aiplatform);
    if (this.target.pubsub) env.CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB = withSlash(this.target.pubsub);
    return env;
  }

  /** Runs `gcloud ...args`; never throws on a non-zero exit (the result carries the code). */
  run(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<GcloudResult> {
    return new Promise((resolve) => {
      execFile('gcloud', args, { env: this.env(), cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Like run, but fails with gcloud's own stderr when the exit code is not 0. */
  async ok(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`gcloud ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    return r.stdout;
  }

  dispose(): void {
    rmSync(this.configDir, { recursive: true, force: true });
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
