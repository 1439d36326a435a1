/**
 * What users get: every public package packed, checked, installed with plain npm into an empty
 * project outside the workspace and used there; and the Changesets publish into a registry on
 * loopback, from which the packages install again.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAll } from '../src/pack.mjs';
import { freePort, run, startProcess } from '../src/run.mjs';
import { repoRoot } from '../src/workspace.mjs';

interface Pack {
  name: string;
  version: string;
  dir: string;
  tarball: string;
  bytes: number;
  budget: number;
}

const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];
let packs: Pack[];
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'component-sandbox-release-'));
  packs = (await packAll(join(scratch, 'packs'))) as Pack[];
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  console.log(
    packs.map((p) => `${p.name.padEnd(40)} ${mib(p.bytes).padStart(10)} (budget ${mib(p.budget)})`).join('\n'),
  );
}, 300_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function tarballFiles(pack: Pack): Promise<string[]> {
  return (await run('tar', ['-tzf', pack.tarball])).stdout.split('\n').filter(Boolean);
}

async function packedFile(pack: Pack, path: string): Promise<string> {
  return (await run('tar', ['-xzOf', pack.tarball, `package/${path}`])).stdout;
}

async function packedManifest(pack: Pack) {
  return JSON.parse(await packedFile(pack, 'package.json'));
}

describe('package hygiene', () => {
  it('finds every public package', () => {
    expect(packs.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        '@component-sandbox/wit',
        '@component-sandbox/guest-build',
        '@component-sandbox/host',
        '@component-sandbox/cli',
        '@component-sandbox/guest-python',
        '@component-sandbox/guest-javascript',
        '@component-sandbox/python-base',
        '@component-sandbox/http',
      ]),
    );
  });

  it('keeps every tarball within its size budget', () => {
    for (const pack of packs) expect(pack.bytes, pack.name).toBeLessThanOrEqual(pack.budget);
  });

  it('ships no tests and no TypeScript sources', async () => {
    for (const pack of packs) {
      const offending = (await tarballFiles(pack)).filter(
        (f) => /(^|\/)test\/|\.test\.|\.spec\./.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)),
      );
      expect(offending, pack.name).toEqual([]);
    }
  });

  it('sets engines, license and a README with install and example', async () => {
    for (const pack of packs) {
      const manifest = await packedManifest(pack);
      expect(manifest.engines?.node, pack.name).toBe('>=20');
      expect(manifest.license, pack.name).toBeTruthy();
      const readme = await packedFile(pack, 'README.md');
      expect(readme, pack.name).toMatch(/npm install/);
      expect(readme, pack.name).toMatch(/```(ts|js|sh)\n/);
    }
  });

  it('depends on the workspace versions of its siblings', async () => {
    const versions = new Map(packs.map((p) => [p.name, p.version]));
    for (const pack of packs) {
      const manifest = await packedManifest(pack);
      for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
        if (versions.has(name)) expect(range, `${pack.name} -> ${name}`).toBe(versions.get(name));
      }
    }
  });

  it('passes publint and are-the-types-wrong (ESM)', async () => {
    for (const pack of packs) {
      const unpacked = join(scratch, 'unpacked', pack.name.replace('/', '__'));
      mkdirSync(unpacked, { recursive: true });
      await run('tar', ['-xzf', pack.tarball, '-C', unpacked, '--strip-components=1']);
      const publint = await run('pnpm', ['exec', 'publint', 'run', unpacked, '--strict'], {
        cwd: join(repoRoot, 'tools/release-check'),
        allowFailure: true,
      });
      expect(publint.status, `${pack.name}: ${publint.stdout}${publint.stderr}`).toBe(0);
      const attw = await run('pnpm', ['exec', 'attw', pack.tarball, '--profile', 'esm-only', '--format', 'ascii'], {
        cwd: join(repoRoot, 'tools/release-check'),
        allowFailure: true,
      });
      expect(attw.status, `${pack.name}: ${attw.stdout}${attw.stderr}`).toBe(0);
    }
  }, 300_000);
});

/** An empty npm project outside the workspace. */
function emptyProject(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  return dir;
}

// Plain JavaScript as a Node 20 user writes it (no `await using` there yet).
const CONSUMER_SCRIPT = `
import { createSandbox } from '@component-sandbox/host';
import { artifactDir as python } from '@component-sandbox/guest-python';
import { artifactDir as javascript } from '@component-sandbox/guest-javascript';
const results = {};
for (const [language, guest] of Object.entries({ python, javascript })) {
  const sandbox = await createSandbox({ guest });
  try {
    results[language] = (await sandbox.eval('2 + 2')).value;
  } finally {
    await sandbox.close();
  }
}
console.log(JSON.stringify(results));
`;

/** Runs the host API, the CLI bin and the build bin from an installed project. */
async function useInstalledPackages(project: string) {
  expect(existsSync(join(project, 'node_modules/@component-sandbox/host/package.json'))).toBe(true);
  expect(readFileSync(join(project, 'node_modules/@component-sandbox/host/package.json'), 'utf8')).not.toMatch(
    /workspace:/,
  );
  writeFileSync(join(project, 'consumer.mjs'), CONSUMER_SCRIPT);
  const consumer = await run(process.execPath, ['consumer.mjs'], { cwd: project });
  expect(JSON.parse(consumer.stdout)).toEqual({ python: 4, javascript: 4 });
  const bin = join(project, 'node_modules/.bin');
  expect((await run(join(bin, 'component-sandbox'), ['2 + 2'], { cwd: project })).stdout).toBe('result: 4\n');
  const js = await run(join(bin, 'component-sandbox'), ['--lang', 'javascript', 'var x = 40', 'x + 2'], {
    cwd: project,
  });
  expect(js.stdout).toBe('result: 42\n');
  const build = await run(join(bin, 'component-sandbox-build'), ['--help'], { cwd: project });
  expect(build.stdout).toMatch(/--lang <language>/);
  await useHttpServer(project);
}

/** Starts the installed HTTP bin on a free loopback port and runs code through it. */
async function useHttpServer(project: string) {
  const server = startProcess(
    join(project, 'node_modules/.bin/component-sandbox-http'),
    ['--host', '127.0.0.1', '--port', '0'],
    {
      cwd: project,
      ready: /"port":(\d+)/,
    },
  );
  try {
    const [, port] = await server.started;
    const response = await fetch(`http://127.0.0.1:${port}/v1/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ statements: ['global foo\ndef foo(): return 42'], expression: 'foo()' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', value: 42 });
  } finally {
    server.child.kill('SIGTERM');
  }
}

describe('installed from tarballs with npm, outside the workspace', () => {
  it('runs Python and JavaScript through the host API, and the bins', async () => {
    const project = emptyProject('consumer');
    await run('npm', ['install', ...NPM_QUIET, ...packs.map((p) => p.tarball)], { cwd: project });
    await useInstalledPackages(project);
  }, 600_000);
});

// A user's own guests: the shipped guest sources, and a Python guest with a helper module, one
// of them imported by guest.py itself (so it is in the snapshot) and one imported at run time.
const CUSTOM_GUEST_SCRIPT = `
import { createSandbox } from '@component-sandbox/host';
const results = {};
for (const language of ['python', 'javascript']) {
  const sandbox = await createSandbox({ guest: new URL('./' + language + '-artifact', import.meta.url).pathname });
  try {
    if (language === 'python') {
      await sandbox.exec('import helper, later');
      results.python = (await sandbox.eval('[helper.answer(), later.VALUE, 2 + 2]')).value;
    } else {
      await sandbox.exec('var x = 40');
      results.javascript = (await sandbox.eval('x + 2')).value;
    }
  } finally {
    await sandbox.close();
  }
}
console.log(JSON.stringify(results));
`;

describe('custom guests built with the installed component-sandbox-build', () => {
  it('builds a JavaScript and a Python guest (with helper modules), and the host runs both', async () => {
    const project = emptyProject('custom-guests');
    const wanted = ['wit', 'host', 'guest-build', 'python-base'].map((name) => `@component-sandbox/${name}`);
    await run('npm', ['install', ...NPM_QUIET, ...packs.filter((p) => wanted.includes(p.name)).map((p) => p.tarball)], {
      cwd: project,
    });
    const guestPy = readFileSync(join(repoRoot, 'guest/python/guest.py'), 'utf8');
    writeFileSync(
      join(project, 'guest.py'),
      `${guestPy}
import helper  # part of the snapshot
`,
    );
    writeFileSync(join(project, 'helper.py'), 'def answer():\n    return 42\n');
    writeFileSync(join(project, 'later.py'), 'VALUE = "imported at run time"\n');
    writeFileSync(join(project, 'guest.js'), readFileSync(join(repoRoot, 'guest/javascript/src/guest.js'), 'utf8'));
    const build = join(project, 'node_modules/.bin/component-sandbox-build');
    await run(build, ['--lang', 'javascript', '--source', 'guest.js', '--out', 'javascript-artifact'], {
      cwd: project,
    });
    await run(
      build,
      [
        '--lang',
        'python',
        '--source',
        'guest.py',
        '--include',
        'helper.py',
        '--include',
        'later.py',
        '--out',
        'python-artifact',
      ],
      { cwd: project },
    );
    writeFileSync(join(project, 'custom.mjs'), CUSTOM_GUEST_SCRIPT);
    const used = await run(process.execPath, ['custom.mjs'], { cwd: project });
    expect(JSON.parse(used.stdout)).toEqual({ python: [42, 'imported at run time', 4], javascript: 42 });
  }, 600_000);
});

describe('the Changesets release, published to a registry on loopback', () => {
  let registry: ReturnType<typeof startProcess> | undefined;
  let url: string;

  beforeAll(async () => {
    const home = join(scratch, 'verdaccio');
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, 'config.yaml'),
      [
        `storage: ${join(home, 'storage')}`,
        // The Python guest's tarball (CPython + stdlib) is above verdaccio's default of 10 MB.
        'max_body_size: 64mb',
        'auth: { htpasswd: { file: ./htpasswd, max_users: -1 } }',
        // Only our scope lives here; everything else still comes from the usual registry.
        'packages:',
        "  '@component-sandbox/*': { access: $all, publish: $anonymous }",
        'log: { type: stdout, format: pretty, level: warn }',
        '',
      ].join('\n'),
    );
    const port = await freePort();
    registry = startProcess(
      join(repoRoot, 'tools/release-check/node_modules/.bin/verdaccio'),
      ['--config', join(home, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
      { ready: /http address/i, cwd: home },
    );
    await registry.started;
    url = `http://127.0.0.1:${port}/`;
  }, 120_000);

  afterAll(() => {
    registry?.child.kill();
  });

  it('publishes every public package with changeset publish, and they install from there', async () => {
    // The user's own npm settings (certificates, proxies) stay; the scope points at verdaccio.
    const npmrc = join(scratch, 'release.npmrc');
    const userNpmrc = join(homedir(), '.npmrc');
    writeFileSync(
      npmrc,
      `${existsSync(userNpmrc) ? readFileSync(userNpmrc, 'utf8') : ''}\n` +
        `@component-sandbox:registry=${url}\n//${url.replace(/^http:\/\//, '')}:_authToken=local-test-token\n`,
    );
    const env = {
      ...process.env,
      npm_config_userconfig: npmrc,
      // The release runs from a working tree with build outputs in it; that is not "unclean".
      npm_config_git_checks: 'false',
    };
    const published = await run('pnpm', ['exec', 'changeset', 'publish', '--no-git-tag'], { cwd: repoRoot, env });
    for (const pack of packs) {
      const info = await run('npm', ['view', `${pack.name}@${pack.version}`, 'version'], { env });
      expect(info.stdout.trim(), `${pack.name}\n${published.stdout}${published.stderr}`).toBe(pack.version);
    }
    const project = emptyProject('from-registry');
    await run('npm', ['install', ...NPM_QUIET, ...packs.map((p) => `${p.name}@${p.version}`)], {
      cwd: project,
      env,
    });
    await useInstalledPackages(project);
  }, 900_000);
});
