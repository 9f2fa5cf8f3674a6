import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startDropshipUp } from '#local/bench/harness/dropship-up';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { cliEnv, runCli, type CliRun } from '../cli/run-cli';
import { DEMO_MODEL_DIR } from '../cli/model-fixtures';

jest.setTimeout(6 * 60_000);

/**
 * The console in real headless Chromium (Debian's package) against a stack started the way a
 * user starts it (`bin/dropship up`, which serves the console and prints its URL), driven with
 * the real CLI: the demo model deployed as v1, then v2 as a 20% canary, then 24 digits and a
 * file that is no image labeled. The console must show the model, both versions with their
 * state timelines and the 80/20 split; the job's progress moving live to 100% while images
 * land; every thumbnail rendered; the label and status filters narrowing the grid to what
 * `dropship results` says; a result's detail with the version that answered; and no error in
 * the browser console. Screenshots go to .dropship/test-output/console.
 */
const OUT = join(__dirname, '..', '..', '..', '.dropship', 'test-output', 'console');
const CHROMIUM = findChromium();
if (!CHROMIUM) process.stderr.write('console browser tests SKIPPED: no Chromium found (set CHROMIUM_PATH, or apt-get install -y chromium; .ci/run installs it)\n');
const maybe = CHROMIUM ? describe : describe.skip;

function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

interface ModelStatus {
  traffic: Record<string, number>;
  versions: Array<{ version: string; state: string; deployedModelId?: string; history: Array<{ to: string }> }>;
}

maybe('dropship console in headless Chromium, on a running dropship up', () => {
  const root = mkdtempSync(join(tmpdir(), 'dropship-console-e2e-'));
  const data = join(root, 'data');
  const env = cliEnv();
  let up: Awaited<ReturnType<typeof startDropshipUp>>;
  let consoleUrl: string;
  let browser: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const dropship = async (...args: string[]): Promise<CliRun> => {
    const r = await runCli([...args, '--data', data], { env, timeoutMs: 4 * 60_000 });
    if (r.code !== 0) throw new Error(`dropship ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    return r;
  };

  beforeAll(async () => {
    up = await startDropshipUp(data, () => undefined, 'console test');
    // `up` prints the console's URL once it serves it, just after the stack file is written
    const log = join(root, 'up.log');
    for (let i = 0; i < 240 && !consoleUrl; i++) {
      consoleUrl = readFileSync(log, 'utf8').match(/^Console: (http:\/\/127\.0\.0\.1:\d+\/)$/m)?.[1] ?? '';
      if (!consoleUrl) await new Promise((r) => setTimeout(r, 250));
    }
    if (!consoleUrl) throw new Error(`dropship up printed no console URL:\n${readFileSync(log, 'utf8')}`);
    mkdirSync(OUT, { recursive: true });
    // a fresh profile folder, and the flags that keep Chromium off the (closed) network
    browser = await chromium.launchPersistentContext(join(root, 'profile'), {
      executablePath: CHROMIUM!,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
  });

  afterAll(async () => {
    await browser?.close();
    await up?.stop();
    if (!process.env.CONSOLE_TEST_KEEP) rmSync(root, { recursive: true, force: true });
  });

  test('the models page shows the demo model, its versions with their state timelines, and the 80/20 traffic split', async () => {
    await dropship('deploy', DEMO_MODEL_DIR, '--model', 'digits', '--version', 'v1', '--wait');
    const canary = join(root, 'canary');
    execFileSync('cp', ['-r', DEMO_MODEL_DIR, canary]);
    writeFileSync(join(canary, 'deploy.json'), JSON.stringify({ traffic: 'canary:20' }));
    await dropship('deploy', canary, '--model', 'digits', '--version', 'v2', '--wait');
    const status = JSON.parse((await dropship('status', 'digits', '--json')).stdout) as ModelStatus;
    expect(status.traffic).toEqual({ v1: 80, v2: 20 });

    await page.goto(`${consoleUrl}#models`);
    await page.getByRole('heading', { name: 'digits' }).waitFor();
    await page.locator('.model p', { hasText: 'traffic: v1 80%, v2 20%' }).waitFor();
    for (const v of status.versions) {
      const row = page.locator(`tr.version[data-version="${v.version}"]`);
      expect(await row.locator('.state').textContent()).toBe(v.state);
      expect(await row.locator('td').nth(2).textContent()).toBe(`${status.traffic[v.version]}%`);
      // one timeline entry per transition in the version's history, in order
      const timeline = (await row.locator('.tl span').allTextContents()).map((t) => t.split(' ')[0]);
      expect(timeline).toEqual(v.history.map((h) => h.to));
      expect(timeline[0]).toBe('PENDING');
      expect(timeline[timeline.length - 1]).toBe('DEPLOYED');
    }
    expect(status.versions.map((v) => v.version)).toEqual(['v1', 'v2']);
    await page.locator('tr.version[data-version="v2"] details summary').first().click();
    await page.screenshot({ path: join(OUT, 'console-models.png') });
  });

  test("a job's progress moves live to 100% while images land; thumbnails render; the filters narrow the grid", async () => {
    const all = heldOutDigits();
    const dir = join(root, 'digits');
    mkdirSync(dir);
    // spread over the set, so several labels show up; and one file that is no image
    for (let i = 0; i < 24; i++) writeFileSync(join(dir, `digit-${String(i).padStart(2, '0')}.png`), await encodeDigit(all[i * Math.floor(all.length / 24)]!.pixels, 'png'));
    writeFileSync(join(dir, 'notes.jpg'), 'not a photo\n');
    await page.goto(`${consoleUrl}#job/cj`);
    // every text the progress shows, from here on, and a mark that a reload would wipe
    await page.evaluate(() => {
      const w = window as unknown as { seen: string[]; sameDocument: boolean };
      w.seen = [];
      w.sameDocument = true;
      setInterval(() => {
        const t = document.querySelector('.progress')?.textContent;
        if (t && w.seen[w.seen.length - 1] !== t) w.seen.push(t);
      }, 20);
    });
    const thumbTypes = new Map<string, string>();
    page.on('response', (r) => r.url().includes('/thumb/') && thumbTypes.set(r.url(), r.headers()['content-type'] ?? ''));
    const label = runCli(['label', dir, '--job', 'cj', '--model', 'digits', '--wait', '--data', data], { env, timeoutMs: 4 * 60_000 });
    await page.locator('.progress', { hasText: '100%' }).waitFor({ timeout: 3 * 60_000 });
    // --wait exits 1 when any image got an ERROR result, and says so
    expect(await label).toMatchObject({ code: 1, stderr: expect.stringContaining('1 of 25 images of job cj got ERROR results') });
    const { seen, sameDocument } = await page.evaluate(() => {
      const w = window as unknown as { seen: string[]; sameDocument?: boolean };
      return { seen: w.seen, sameDocument: w.sameDocument };
    });
    expect(sameDocument).toBe(true); // no reload
    expect(seen.some((t) => t !== '100%')).toBe(true); // it moved while we watched
    await page.locator('.ok', { hasText: '24 OK' }).waitFor();
    await page.locator('.error', { hasText: '1 ERROR' }).waitFor();
    await page.locator('.reasons td', { hasText: 'NOT_AN_IMAGE' }).waitFor();

    const results = JSON.parse((await dropship('results', 'cj', '--json')).stdout) as Array<{ label?: string; status: string }>;
    expect(results).toHaveLength(25);
    await page.waitForFunction((n) => document.querySelectorAll('.grid img.thumb').length === n, 25);
    await page.waitForFunction(() => Array.prototype.every.call(document.querySelectorAll('.grid img.thumb'), (i: { complete: boolean; naturalWidth: number }) => i.complete && i.naturalWidth > 0));
    // the digits' thumbnails were made from the images (WebP), only the file that is no image has the placeholder
    const types = [...thumbTypes.values()];
    expect(types.filter((t) => t === 'image/webp')).toHaveLength(24);
    expect(types.filter((t) => t.startsWith('image/svg'))).toHaveLength(1);
    await page.screenshot({ path: join(OUT, 'console-job.png'), fullPage: true });

    const first = (await page.locator('.grid .cell[data-label]').first().getAttribute('data-label'))!;
    const withLabel = results.filter((r) => r.label === first).length;
    expect(withLabel).toBeLessThan(24);
    await page.fill('.f-label', first);
    await page.press('.f-label', 'Enter');
    await page.waitForFunction((n) => document.querySelectorAll('.grid .cell').length === n, withLabel);
    expect(new Set(await page.locator('.grid .cell').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-label'))))).toEqual(new Set([first]));
    await page.fill('.f-label', '');
    await page.press('.f-label', 'Enter');
    await page.selectOption('.f-status', 'ERROR');
    await page.waitForFunction(() => document.querySelectorAll('.grid .cell').length === 1);
    await page.selectOption('.f-status', '');
    await page.waitForFunction((n) => document.querySelectorAll('.grid .cell').length === n, 25);

    await page.locator('.grid .cell[data-label]').first().click();
    await page.locator('.detail pre').nth(1).waitFor();
    const answeredBy = JSON.parse((await page.locator('.detail pre').nth(1).textContent())!) as { version: string; deployedModelId: string };
    const status = JSON.parse((await dropship('status', 'digits', '--json')).stdout) as ModelStatus;
    expect(status.versions.find((v) => v.version === answeredBy.version)?.deployedModelId).toBe(answeredBy.deployedModelId);
    await page.waitForFunction(() => {
      const big = document.querySelector('.detail img') as unknown as { complete: boolean; naturalWidth: number } | null;
      return !!big && big.complete && big.naturalWidth > 0;
    });
    await page.locator('.detail').screenshot({ path: join(OUT, 'console-result.png') });
    expect(existsSync(join(OUT, 'console-result.png'))).toBe(true);
    expect(consoleErrors).toEqual([]);
  });
});
