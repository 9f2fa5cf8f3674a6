import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './source-scan';

interface Step {
  id: string;
  name: string;
  entrypoint?: string;
  args?: string[];
}

/** The test command the README tells people to run (the `npm test` line of its first sh block). */
function readmeTestCommand(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => /^npm (run )?test\b/.test(l.trim()));
  if (!line) throw new Error('README.md has no test command');
  return line.replace(/#.*/, '').trim();
}

/** The shell a step runs, as one string. */
function commandOf(step: Step): string {
  if (step.entrypoint === 'bash' || step.entrypoint === 'sh') return (step.args ?? []).slice(1).join(' ');
  return [step.entrypoint, ...(step.args ?? [])].join(' ');
}

describe('cloudbuild.yaml', () => {
  const build = parse(readFileSync(join(REPO_ROOT, 'cloudbuild.yaml'), 'utf8')) as { steps: Step[]; substitutions: Record<string, string> };
  const step = (id: string) => build.steps.find((s) => s.id === id)!;

  it('parses, and runs install, typecheck, test, bundle and deploy in that order', () => {
    expect(build.steps.map((s) => s.id)).toEqual(['install', 'typecheck', 'test', 'bundle', 'deploy']);
    expect(commandOf(step('install'))).toBe('npm ci');
    expect(commandOf(step('typecheck'))).toBe('npm run typecheck');
  });

  it("runs exactly the README's test command, in an image with the gcloud emulators", () => {
    const cmd = readmeTestCommand();
    expect(cmd).toBe('npm test');
    const last = commandOf(step('test')).split('&&').pop()!.trim();
    expect(last).toBe(cmd);
    expect(step('test').name).toMatch(/google-cloud-cli:emulators$/);
  });

  it('applies terraform only on the deploy branch', () => {
    const script = commandOf(step('deploy'));
    expect(script).toMatch(/if \[ "\$BRANCH_NAME" != "\$_DEPLOY_BRANCH" \]; then .*exit 0; fi/);
    expect(script.indexOf('exit 0')).toBeLessThan(script.indexOf('terraform apply'));
    expect(build.substitutions._DEPLOY_BRANCH).toBe('main');
  });
});
