import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSavedModel, SavedModelFormatError } from '#shared/savedmodel/read-saved-model';
import { checkSignature } from '#shared/savedmodel/signature-check';
import { failedPrecondition } from './api-error';
import { resolveArtifactDir, servedFolder } from './artifact-location';
import { OnnxModelServer, type ModelServer } from './model-server';

export type { ModelServer } from './model-server';

/**
 * The model servers behind deployed models: one ONNX Runtime session per deployed model,
 * loaded when the deploy operation runs (or when the emulator restarts with it deployed),
 * closed when it is undeployed. What a TF Serving container would refuse to load, this
 * refuses too, with a message saying how to fix it.
 */
export type ModelLoader = (dir: string) => Promise<ModelServer>;

export function onnxLoader(intraOpNumThreads?: number): ModelLoader {
  return (dir) => OnnxModelServer.load(dir, intraOpNumThreads);
}

export class RuntimePool {
  private readonly servers = new Map<string, ModelServer>();

  constructor(
    private readonly gcsRoot: string | undefined,
    private readonly loader: ModelLoader,
  ) {}

  /** Loads the model for a deployed model id; throws ApiError(FAILED_PRECONDITION) with the reason when it cannot. */
  async load(deployedModelId: string, artifactUri: string): Promise<void> {
    const dir = servedFolder(resolveArtifactDir(artifactUri, this.gcsRoot));
    await checkSavedModel(dir, artifactUri);
    let server: ModelServer;
    try {
      server = await this.loader(dir);
    } catch (err) {
      // MissingOnnxModelError and ModelConfigError already say how to fix the folder.
      throw failedPrecondition(`Model server could not start for ${artifactUri}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const old = this.servers.get(deployedModelId);
    this.servers.set(deployedModelId, server);
    await old?.close();
  }

  get(deployedModelId: string): ModelServer | undefined {
    return this.servers.get(deployedModelId);
  }

  async unload(deployedModelId: string): Promise<void> {
    const s = this.servers.get(deployedModelId);
    this.servers.delete(deployedModelId);
    await s?.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.allSettled(all.map((s) => s.close()));
  }
}

/** A saved_model.pb beside model.onnx must be a SavedModel with the serving signature this runtime implements. */
async function checkSavedModel(dir: string, artifactUri: string): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, 'saved_model.pb'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  let problems: string[];
  try {
    problems = checkSignature(readSavedModel(bytes));
  } catch (err) {
    if (err instanceof SavedModelFormatError) throw failedPrecondition(`${artifactUri}/saved_model.pb cannot be loaded: ${err.message}`);
    throw err;
  }
  if (problems.length) {
    throw failedPrecondition(`${artifactUri}/saved_model.pb does not have the serving signature this runtime implements: ${problems.join(' ')}`);
  }
}
