import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSavedModel } from '#local/savedmodel/write-saved-model';
import { REPO_ROOT } from './run-cli';

export const DEMO_MODEL_DIR = join(REPO_ROOT, 'local', 'demo-model', 'mnist-vit');

/** Copies of the demo model, each broken (or changed) in one way, under a temp folder. */
export function makeModelFixtures(): { root: string; good: string; wrongSignature: string; badDeployJson: string; partial: string; canary: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'dropship-cli-models-'));
  const copy = (name: string) => {
    const dir = join(root, name);
    cpSync(DEMO_MODEL_DIR, dir, { recursive: true });
    return dir;
  };
  const good = copy('good');
  const wrongSignature = copy('wrong-signature');
  writeFileSync(
    join(wrongSignature, 'saved_model.pb'),
    writeSavedModel({
      tensorflowVersion: '2.15.0',
      tags: ['serve'],
      signatures: {
        serving_default: {
          inputs: { string_input: { dtype: 'DT_STRING', shape: [-1] } },
          outputs: { confidence: { dtype: 'DT_FLOAT', shape: [-1] }, label: { dtype: 'DT_INT64', shape: [-1] } },
        },
      },
    }),
  );
  const badDeployJson = copy('bad-deploy-json');
  writeFileSync(join(badDeployJson, 'deploy.json'), JSON.stringify({ traffic: 'canary:150' }));
  const partial = join(root, 'partial');
  mkdirSync(partial);
  cpSync(join(DEMO_MODEL_DIR, 'saved_model.pb'), join(partial, 'saved_model.pb'));
  const canary = copy('canary');
  writeFileSync(join(canary, 'deploy.json'), JSON.stringify({ traffic: 'canary:10' }));
  return { root, good, wrongSignature, badDeployJson, partial, canary, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
