/**
 * The writable `/tmp` with a real Python guest: files persist across calls, snapshots and forks,
 * the quota is a guest error the sandbox survives, and nothing outside `/tmp` becomes writable.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import { InvalidInputError, InvalidOptionsError, createSandbox, restoreSandbox, type Sandbox } from '../dist/index.js';
import { DEFINE_ATTEMPT } from './support/attempt.js';

const open: Sandbox[] = [];
async function sandbox(options: { tmpLimitBytes?: number } = {}): Promise<Sandbox> {
  const created = await createSandbox({ guest: pythonGuest, ...options });
  open.push(created);
  return created;
}
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

async function value(sandbox: Sandbox, expression: string): Promise<unknown> {
  return (await sandbox.eval(expression)).value;
}

describe('/tmp', () => {
  it('keeps a file written in one call for the next, and tempfile uses it', async () => {
    const box = await sandbox();
    await box.exec(
      "import csv, os, tempfile\nwith open('/tmp/rows.csv', 'w', newline='') as f:\n    csv.writer(f).writerows([[1, 'a'], [2, 'b']])",
    );
    expect(await value(box, "list(csv.reader(open('/tmp/rows.csv')))")).toEqual([
      ['1', 'a'],
      ['2', 'b'],
    ]);
    expect(await value(box, 'tempfile.gettempdir()')).toBe('/tmp');
    await box.exec(
      "with tempfile.NamedTemporaryFile('w', delete=False, suffix='.txt') as f:\n    f.write('named')\nname = f.name",
    );
    expect(await value(box, 'open(name).read()')).toBe('named');
    await box.exec("os.makedirs('/tmp/a/b', exist_ok=True)\nos.rename(name, '/tmp/a/b/moved.txt')");
    expect(await value(box, "sorted(os.listdir('/tmp/a/b')), os.path.exists(name)")).toEqual([['moved.txt'], false]);
  });

  it('keeps an unlinked file open across calls (TemporaryFile) and frees it when closed', async () => {
    const box = await sandbox({ tmpLimitBytes: 256 * 1024 });
    await box.exec("import os, tempfile\nf = tempfile.TemporaryFile()\nf.write(b'x' * 200_000)");
    expect(await value(box, "os.listdir('/tmp')")).toEqual([]);
    expect(await value(box, 'f.seek(0), len(f.read())')).toEqual([0, 200_000]);
    // While it is open its blocks count against the quota...
    const full = await box.run('exec', "open('/tmp/more', 'wb').write(b'y' * 100_000)");
    expect(full.status).toBe('exec_error');
    // ...and once closed they are free again.
    await box.exec("f.close()\nos.remove('/tmp/more')\nopen('/tmp/more', 'wb').write(b'y' * 200_000)");
    expect(await value(box, "os.path.getsize('/tmp/more')")).toBe(200_000);
  });

  it('over the quota: ENOSPC in the guest, the sandbox and its files live on', async () => {
    const box = await sandbox({ tmpLimitBytes: 1024 * 1024 });
    await box.exec("import errno, os\nopen('/tmp/keep', 'w').write('kept')\nx = 41");
    const result = await box.run(
      'exec',
      "try:\n    open('/tmp/big', 'wb').write(b'z' * (2 * 1024 * 1024))\nexcept OSError as e:\n    caught = (e.errno == errno.ENOSPC, e.strerror)\n    raise",
    );
    expect(result.status).toBe('exec_error');
    expect(result.error?.type).toBe('OSError');
    expect(result.error?.message).toContain('No space left on device');
    expect(result.sandbox).toBe('ready');
    expect(await value(box, 'caught, x + 1, open("/tmp/keep").read()')).toEqual([
      [true, 'No space left on device'],
      42,
      'kept',
    ]);
    // Space comes back when the file goes.
    await box.exec("os.remove('/tmp/big')\nopen('/tmp/fits', 'wb').write(b'z' * 900_000)");
    expect(await value(box, "os.path.getsize('/tmp/fits')")).toBe(900_000);
  });

  it('cannot hold more files than the quota allows, even empty ones', async () => {
    const box = await sandbox({ tmpLimitBytes: 64 * 4096 });
    const result = await box.run('exec', "for i in range(10_000):\n    open(f'/tmp/{i}', 'w').close()");
    expect(result.status).toBe('exec_error');
    expect(result.error?.message).toContain('No space left on device');
    expect(await value(box, "len(__import__('os').listdir('/tmp')) < 10_000")).toBe(true);
  });

  it('is private to each sandbox', async () => {
    const [one, two] = await Promise.all([sandbox(), sandbox()]);
    await one.exec("open('/tmp/secret', 'w').write('one')");
    expect(await value(two, "__import__('os').path.exists('/tmp/secret')")).toBe(false);
  });

  it('leaves everything else read-only, and paths cannot climb out', async () => {
    const box = await sandbox();
    await box.exec(DEFINE_ATTEMPT);
    const outcomes = await value(
      box,
      `[
        attempt(lambda: open('/escape', 'w')),
        attempt(lambda: open('/python/new.py', 'w')),
        attempt(lambda: open('/tmp/../python/new.py', 'w')),
        attempt(lambda: os.mkdir('/newdir')),
        attempt(lambda: os.rmdir('/tmp')),
        attempt(lambda: os.symlink('/python', '/tmp/link')),
        attempt(lambda: os.rename('/tmp', '/moved')),
        attempt(lambda: open('/etc/passwd')),
        attempt(lambda: open('/tmp/../../etc/passwd')),
      ]`,
    );
    expect(outcomes).not.toContain('allowed');
    expect((outcomes as string[]).slice(0, 4)).toEqual(['EROFS', 'EROFS', 'EROFS', 'EROFS']);
    expect(await value(box, "sorted(os.listdir('/'))")).toEqual(['app', 'python', 'tmp', 'usr']);
  });

  it('has symbolic links that resolve within /tmp only', async () => {
    const box = await sandbox();
    await box.exec(
      DEFINE_ATTEMPT +
        "\nimport shutil, tempfile\nos.makedirs('/tmp/s/d')\nopen('/tmp/s/d/f', 'w').write('hi')\n" +
        "os.symlink('d', '/tmp/s/rel')\nos.symlink('/tmp/s/d/f', '/tmp/s/abs')\nos.symlink('nowhere', '/tmp/s/dangling')",
    );
    expect(
      await value(
        box,
        "[os.readlink('/tmp/s/rel'), open('/tmp/s/rel/f').read(), open('/tmp/s/abs').read(), " +
          "os.path.islink('/tmp/s/rel'), os.path.isdir('/tmp/s/rel'), os.path.exists('/tmp/s/dangling'), " +
          "os.lstat('/tmp/s/abs').st_size, os.stat('/tmp/s/abs').st_ino == os.stat('/tmp/s/d/f').st_ino, " +
          "sorted((e.name, e.is_symlink(), e.is_dir()) for e in os.scandir('/tmp/s'))]",
      ),
    ).toEqual([
      'd',
      'hi',
      'hi',
      true,
      true,
      false,
      10,
      true,
      [
        ['abs', true, false],
        ['d', false, true],
        ['dangling', true, false],
        ['rel', true, true],
      ],
    ]);
    // Writing through a dangling link creates its target; removing a link leaves the target.
    await box.exec("open('/tmp/s/dangling', 'w').write('made')\nos.remove('/tmp/s/abs')");
    expect(await value(box, "open('/tmp/s/nowhere').read(), os.path.exists('/tmp/s/d/f')")).toEqual(['made', true]);
    // rmtree does not follow a link into the directory it points to.
    await box.exec("os.makedirs('/tmp/t')\nos.symlink('/tmp/s/d', '/tmp/t/link')\nshutil.rmtree('/tmp/t')");
    expect(await value(box, "os.path.exists('/tmp/t'), os.listdir('/tmp/s/d')")).toEqual([false, ['f']]);
    const outcomes = await value(
      box,
      `[
        attempt(lambda: os.symlink('/python', '/tmp/s/py')),
        attempt(lambda: os.symlink('/tmp/../python', '/tmp/s/py')),
        attempt(lambda: os.symlink('../../python/os.py', '/tmp/s/up')),
        attempt(lambda: open('/tmp/s/up').read()),
        attempt(lambda: os.symlink('loop', '/tmp/s/loop')),
        attempt(lambda: open('/tmp/s/loop')),
        attempt(lambda: os.symlink('d', '/tmp/s/rel')),
        attempt(lambda: os.symlink('x', '/python/link')),
        attempt(lambda: os.readlink('/tmp/s/d')),
      ]`,
    );
    expect(outcomes).toEqual(['EPERM', 'EPERM', 'allowed', 'EPERM', 'allowed', 'ELOOP', 'EEXIST', 'EROFS', 'EINVAL']);
    // The host sees links too, and they travel in snapshots.
    expect((await box.listFiles('/tmp/s')).find((entry) => entry.name === 'rel')).toEqual({
      name: 'rel',
      type: 'symlink',
      target: 'd',
    });
    const restored = await restoreSandbox(await box.snapshot(), { guest: pythonGuest });
    open.push(restored);
    expect(await value(restored, "__import__('os').readlink('/tmp/s/rel'), open('/tmp/s/rel/f').read()")).toEqual([
      'd',
      'hi',
    ]);
  });

  it('travels in snapshots and forks; a fork writes its own copy', async () => {
    const box = await sandbox();
    await box.exec("f = open('/tmp/log', 'w+')\nf.write('first\\n')\nf.flush()");
    const fork = await box.fork();
    open.push(fork);
    await fork.exec("f.write('fork\\n')\nf.flush()");
    await box.exec("f.write('parent\\n')\nf.flush()");
    expect(await value(fork, "open('/tmp/log').read()")).toBe('first\nfork\n');
    expect(await value(box, "open('/tmp/log').read()")).toBe('first\nparent\n');

    const restored = await restoreSandbox(await box.snapshot(), { guest: pythonGuest });
    open.push(restored);
    await restored.exec("f.write('restored\\n')\nf.close()");
    expect(await value(restored, "open('/tmp/log').read()")).toBe('first\nparent\nrestored\n');
    expect(await value(box, "open('/tmp/log').read()")).toBe('first\nparent\n');
  });

  it('refuses a snapshot whose /tmp is above the new limit', async () => {
    const box = await sandbox();
    await box.exec("open('/tmp/data', 'wb').write(bytes(300_000))");
    const bytes = await box.snapshot();
    await expect(restoreSandbox(bytes, { guest: pythonGuest, tmpLimitBytes: 128 * 1024 })).rejects.toThrow(
      InvalidInputError,
    );
  });

  it('takes a valid tmpLimitBytes only', async () => {
    await expect(createSandbox({ guest: pythonGuest, tmpLimitBytes: 0 })).rejects.toThrow(InvalidOptionsError);
    await expect(createSandbox({ guest: pythonGuest, tmpLimitBytes: 2 ** 33 })).rejects.toThrow(InvalidOptionsError);
  });
});
