/**
 * Files between the host and a real Python guest: the host's writeFile/readFile/listFiles on
 * the sandbox's `/tmp`, and read-only mounts of host directories that nothing can escape.
 */
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import { artifactDir as javascriptGuest } from '@component-sandbox/guest-javascript';
import {
  FileError,
  InvalidInputError,
  InvalidOptionsError,
  createSandbox,
  type Sandbox,
  type SandboxOptions,
} from '../dist/index.js';
import { DEFINE_ATTEMPT } from './support/attempt.js';

const open: Sandbox[] = [];
async function sandbox(options: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  const created = await createSandbox({ guest: pythonGuest, ...options });
  open.push(created);
  return created;
}
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

let hostDir: string;
let outside: string;
beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'mounts-'));
  hostDir = join(root, 'data');
  outside = join(root, 'outside');
  await mkdir(join(hostDir, 'nested'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(hostDir, 'rows.csv'), 'a,b\n1,2\n');
  await writeFile(join(hostDir, 'nested', 'deep.txt'), 'deep');
  await writeFile(join(outside, 'secret.txt'), 'secret');
  await symlink(join(outside, 'secret.txt'), join(hostDir, 'escape.txt'));
  await symlink(join(hostDir, 'rows.csv'), join(hostDir, 'alias.csv'));
});

describe('host files in /tmp', () => {
  it('the guest reads what the host wrote, and the host reads what the guest wrote', async () => {
    const box = await sandbox();
    await box.writeFile('/tmp/in/data.json', JSON.stringify({ n: 41 }));
    await box.writeFile('raw.bin', new Uint8Array([0, 1, 2, 255]));
    await box.exec(
      "import json\nn = json.load(open('/tmp/in/data.json'))['n']\nopen('/tmp/out.txt', 'w').write(str(n + 1))",
    );
    expect((await box.eval("list(open('/tmp/raw.bin', 'rb').read())")).value).toEqual([0, 1, 2, 255]);
    expect(new TextDecoder().decode(await box.readFile('/tmp/out.txt'))).toBe('42');
    expect(await box.listFiles()).toEqual([
      { name: 'in', type: 'directory' },
      { name: 'out.txt', type: 'file', size: 2 },
      { name: 'raw.bin', type: 'file', size: 4 },
    ]);
    // The guest's globals are untouched by host-side writes.
    await box.writeFile('/tmp/in/data.json', '{"n": 1}');
    expect((await box.eval('n')).value).toBe(41);
    expect((await box.eval("open('/tmp/in/data.json').read()")).value).toBe('{"n": 1}');
  });

  it('refuses what it cannot do with typed errors, and changes nothing', async () => {
    const box = await sandbox({ tmpLimitBytes: 64 * 1024 });
    await box.writeFile('/tmp/keep.txt', 'kept');
    await expect(box.readFile('/tmp/missing')).rejects.toMatchObject({ code: 'FILE_ERROR', reason: 'NOT_FOUND' });
    await expect(box.writeFile('/tmp/big', new Uint8Array(128 * 1024))).rejects.toMatchObject({
      reason: 'NO_SPACE',
    });
    await expect(box.writeFile('/tmp/keep.txt/child', 'x')).rejects.toBeInstanceOf(FileError);
    await expect(box.readFile('/tmp')).rejects.toMatchObject({ reason: 'IS_DIRECTORY' });
    await expect(box.writeFile('/etc/passwd', 'x')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(box.writeFile('/tmp/../etc/x', 'x')).rejects.toBeInstanceOf(InvalidInputError);
    expect(await box.listFiles('/tmp')).toEqual([{ name: 'keep.txt', type: 'file', size: 4 }]);
    expect((await box.eval("open('/tmp/keep.txt').read()")).value).toBe('kept');
  });

  it('is refused for a guest without a /tmp', async () => {
    const box = await sandbox({ guest: javascriptGuest });
    await expect(box.writeFile('/tmp/x', 'x')).rejects.toMatchObject({ reason: 'NO_SCRATCH' });
  });
});

describe('read-only mounts', () => {
  it('let the guest read a host directory, and nothing else', async () => {
    const box = await sandbox({ mounts: [{ hostPath: hostDir, guestPath: '/data' }] });
    expect((await box.eval("open('/data/rows.csv').read()")).value).toBe('a,b\n1,2\n');
    expect((await box.eval("open('/data/nested/deep.txt').read()")).value).toBe('deep');
    expect((await box.eval("open('/data/alias.csv').read()")).value).toBe('a,b\n1,2\n');
    await box.exec(DEFINE_ATTEMPT);
    const outcomes = (
      await box.eval(
        `[
        attempt(lambda: open('/data/escape.txt').read()),
        attempt(lambda: open('/data/../outside/secret.txt').read()),
        attempt(lambda: open('/data/nested/../../outside/secret.txt').read()),
        attempt(lambda: open('/data/new.txt', 'w')),
        attempt(lambda: os.remove('/data/rows.csv')),
        attempt(lambda: os.rename('/data/rows.csv', '/tmp/rows.csv')),
        attempt(lambda: os.symlink('/data', '/tmp/link')),
      ]`,
      )
    ).value as string[];
    expect(outcomes).not.toContain('allowed');
    expect(outcomes[3]).toBe('EROFS');
    expect((await box.eval("sorted(os.listdir('/'))")).value).toEqual(['app', 'data', 'python', 'tmp', 'usr']);
  });

  it('refuses mounts that cannot work, before any sandbox exists', async () => {
    const cases: SandboxOptions['mounts'][] = [
      [{ hostPath: hostDir, guestPath: 'relative' }],
      [{ hostPath: hostDir, guestPath: '/' }],
      [{ hostPath: hostDir, guestPath: '/tmp' }],
      [{ hostPath: hostDir, guestPath: '/python/lib' }],
      [{ hostPath: hostDir, guestPath: '/a/../b' }],
      [{ hostPath: join(hostDir, 'rows.csv'), guestPath: '/data' }],
      [{ hostPath: join(hostDir, 'missing'), guestPath: '/data' }],
      [
        { hostPath: hostDir, guestPath: '/data' },
        { hostPath: outside, guestPath: '/data/inner' },
      ],
    ];
    for (const mounts of cases) {
      await expect(createSandbox({ guest: pythonGuest, mounts }), JSON.stringify(mounts)).rejects.toBeInstanceOf(
        InvalidOptionsError,
      );
    }
    await expect(
      createSandbox({ guest: javascriptGuest, mounts: [{ hostPath: hostDir, guestPath: '/data' }] }),
    ).rejects.toBeInstanceOf(InvalidOptionsError);
  });
});
