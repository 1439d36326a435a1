/**
 * The playground in a real headless browser: Debian's chromium driven by playwright-core.
 * Chromium is installed with apt-get when missing (CI runs as root); only if that is impossible
 * are these tests skipped, loudly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPythonGuest, startServer, type TestServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'playground-key-0123456789';

function ensureChromium(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const apt = (...args: string[]) =>
    execFileSync('apt-get', args, {
      stdio: 'ignore',
      timeout: 600_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    try {
      apt('install', '-y', '--no-install-recommends', 'chromium');
    } catch {
      apt('update');
      apt('install', '-y', '--no-install-recommends', 'chromium');
    }
  } catch (error) {
    return `apt-get install chromium failed (${(error as Error).message.split('\n')[0]})`;
  }
  return existsSync(CHROMIUM) ? undefined : `apt-get installed chromium but ${CHROMIUM} is missing`;
}

const chromiumProblem = ensureChromium();
// CI runs as root with Debian's archive: the browser tests must run there, never skip.
if (chromiumProblem && process.env.CI) throw new Error(`the playground tests cannot run in CI: ${chromiumProblem}`);
if (chromiumProblem) {
  console.error(`\n${'!'.repeat(78)}\n!!! PLAYGROUND BROWSER TESTS SKIPPED: ${chromiumProblem}\n${'!'.repeat(78)}\n`);
}
const python = await findPythonGuest();
const language = python.dir ? 'python' : 'javascript';

describe.skipIf(chromiumProblem !== undefined)(`playground in headless chromium (${language})`, () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    server = await startServer({ apiKeys: [KEY], ...(python.dir ? { guestDirs: { python: python.dir } } : {}) });
    profile = mkdtempSync(join(tmpdir(), 'cs-playground-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('serves the page with a strict Content-Security-Policy and no external resources', async () => {
    const response = await page.goto(server.url);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'/);
    const html = await response!.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(await page.title()).toBe('component-sandbox playground');
  });

  it(`types 2 + 2, clicks Run, and shows 4 (${language})`, async () => {
    await page.goto(server.url);
    await page.fill('#api-key', KEY);
    await page.press('#api-key', 'Tab'); // change event: reload the languages with the key
    await page.waitForSelector('body[data-languages="loaded"]');
    await page.selectOption('#language', language);
    await page.fill('#code', '2 + 2');
    await page.click('#run');
    await expect.poll(() => page.textContent('#value'), { timeout: 20_000 }).toBe('4');
    expect(await page.textContent('#status')).toMatch(/^ok/);
    expect(await page.textContent('#session-id')).toMatch(/^ses_/);
  });

  it('keeps globals between runs in the session, and shows output and errors', async () => {
    const define = language === 'python' ? 'x = 40\nprint("defined")' : 'var x = 40; console.log("defined")';
    await page.fill('#code', define);
    await page.click('#run'); // not an expression: runs as statements
    await expect.poll(() => page.textContent('#stdout'), { timeout: 20_000 }).toBe('defined\n');
    await page.fill('#code', 'x + 2');
    await page.click('#run');
    await expect.poll(() => page.textContent('#value'), { timeout: 20_000 }).toBe('42');
    await page.fill('#code', 'nope');
    await page.click('#eval');
    await expect.poll(() => page.textContent('#error'), { timeout: 20_000 }).toMatch(/NameError|ReferenceError/);
    expect(await page.textContent('#status')).toMatch(/^eval_error/);
  });

  it('shows output live while the call runs, and Stop cancels it', async () => {
    const runaway =
      language === 'python' ? 'print("started", flush=True)\nwhile True: pass' : 'console.log("started"); for (;;) {}';
    await page.fill('#code', runaway);
    await page.click('#exec');
    // The call cannot end on its own before its time limit: the output came while it ran.
    await expect.poll(() => page.textContent('#stdout'), { timeout: 20_000 }).toMatch(/^started/);
    expect(await page.textContent('#status')).toBe('running...');
    expect(await page.isDisabled('#stop')).toBe(false);
    await page.click('#stop');
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toMatch(/^cancelled/);
    expect(await page.isDisabled('#stop')).toBe(true);
    if (language === 'python') {
      // The soft stop caught it: the session kept x.
      await page.fill('#code', 'x + 2');
      await page.click('#run');
      await expect.poll(() => page.textContent('#value'), { timeout: 20_000 }).toBe('42');
    }
  });

  it('reports a runaway that reaches its time limit as timeout; a Python session keeps its globals', async () => {
    await page.fill('#code', language === 'python' ? 'while True: pass' : 'for (;;) {}');
    await page.click('#exec');
    // The server's default limit (5 s) ends it.
    await expect.poll(() => page.textContent('#status'), { timeout: 30_000 }).toMatch(/^timeout/);
    if (language === 'python') {
      await page.fill('#code', 'x + 2');
      await page.click('#run');
      await expect.poll(() => page.textContent('#value'), { timeout: 20_000 }).toBe('42');
    }
  });
});
