import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startConsole, type RunningConsole } from '#local/console/server';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { IMAGES_BUCKET, MODEL, PipelineHarness } from '../labeling/pipeline-harness';

jest.setTimeout(120_000);

/**
 * The console in real headless Chromium (Debian's package) against the labeling pipeline on
 * the emulators: the model page, a job's progress reaching 100% while images land, thumbnails
 * that really rendered, the label filter narrowing the grid, and no browser console errors.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = join(__dirname, '..', '..', '..', '.dropship', 'test-output', 'console');
const have = existsSync(CHROMIUM);
if (!have) process.stderr.write(`console browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)\n`);
const maybe = have ? describe : describe.skip;

maybe('dropship console in headless Chromium', () => {
  const h = new PipelineHarness();
  let web: RunningConsole;
  let browser: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const profile = mkdtempSync(join(tmpdir(), 'dropship-chromium-'));

  beforeAll(async () => {
    await h.start();
    web = await startConsole({ firestore: h.db, storage: h.storage, kind: 'local', project: h.projectId, cacheDir: mkdtempSync(join(tmpdir(), 'dropship-thumbs-')), imagesBucket: IMAGES_BUCKET });
    mkdirSync(OUT, { recursive: true });
    // a fresh profile folder, and the flags that keep Chromium off the (closed) network
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1100, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await h.stop();
    rmSync(profile, { recursive: true, force: true });
  });

  test('the models page shows the deployed demo model and its endpoint', async () => {
    await page.goto(`${web.url}#models`);
    await page.getByRole('heading', { name: MODEL }).waitFor();
    expect(await page.textContent('main')).toContain(h.endpoint);
  });

  test("a job's progress reaches 100% while images land, thumbnails render, the label filter narrows the grid", async () => {
    const all = heldOutDigits();
    // spread over the set, so several labels show up
    const digits = Array.from({ length: 24 }, (_, i) => all[i * Math.floor(all.length / 24)]!);
    await page.goto(`${web.url}#job/cj`);
    await h.upload('cj/_job.json', Buffer.from(JSON.stringify({ model: MODEL })));
    await h.uploadAll(await Promise.all(digits.map(async (d, i) => ({ name: `cj/digit-${i}.png`, bytes: await encodeDigit(d.pixels, 'png') }))));
    await page.locator('.progress', { hasText: '100%' }).waitFor({ timeout: 90_000 });
    await page.waitForFunction((n) => document.querySelectorAll('.grid img.thumb').length === n, digits.length);
    await page.waitForFunction(() => Array.prototype.every.call(document.querySelectorAll<HTMLImageElement>('.grid img.thumb'), (i: HTMLImageElement) => i.complete && i.naturalWidth > 0));
    await page.screenshot({ path: join(OUT, 'console-job.png') });
    const label = await page.locator('.grid .cell').first().getAttribute('data-label');
    const expected = (await h.results('cj')).filter((r) => r.label === label).length;
    expect(expected).toBeLessThan(digits.length);
    await page.fill('.f-label', label!);
    await page.press('.f-label', 'Enter');
    await page.waitForFunction((n) => document.querySelectorAll('.grid .cell').length === n, expected);
    await page.locator('.grid .cell').first().click();
    await page.locator('.detail pre').first().waitFor();
    expect(await page.textContent('.detail')).toContain('deployedModelId');
    await page.screenshot({ path: join(OUT, 'console-result.png') });
    expect(consoleErrors).toEqual([]);
  });
});
