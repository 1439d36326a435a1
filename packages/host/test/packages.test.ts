/**
 * A directory of real pure-Python packages (Debian's, unpacked at test time) mounted into a
 * Python sandbox with `packages`: importable, read-only, and a C extension is refused by name.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { artifactDir as pythonGuest } from '@component-sandbox/guest-python';
import { createSandbox, type Sandbox } from '../dist/index.js';
import { unpackDebianPythonPackages } from '@component-sandbox/python-wasi';

let packages: string;
let box: Sandbox;
beforeAll(async () => {
  packages = unpackDebianPythonPackages([
    'python3-six',
    'python3-tabulate',
    'python3-dateutil',
    'python3-attr',
    'python3-numpy',
  ]);
  box = await createSandbox({ guest: pythonGuest, packages });
}, 120_000);
afterAll(async () => {
  await box?.close();
});

describe('packages', () => {
  it('imports pure-Python packages from the mounted directory', async () => {
    await box.exec(
      [
        'import attr, datetime, six, sys',
        'from dateutil.relativedelta import relativedelta',
        'from tabulate import tabulate',
        '@attr.s(frozen=True)',
        'class Point:',
        '    x = attr.ib()',
        '    y = attr.ib()',
      ].join('\n'),
    );
    const { value } = await box.eval(
      "[tabulate([[1, 'a']], headers=['n', 's'], tablefmt='plain'), " +
        'str(datetime.date(2024, 1, 31) + relativedelta(months=1)), ' +
        'attr.asdict(Point(1, 2)), six.PY3, tabulate.__module__, sys.modules["six"].__file__]',
    );
    expect(value).toEqual(['  n  s\n  1  a', '2024-02-29', { x: 1, y: 2 }, true, 'tabulate', '/packages/six.py']);
  });

  it("finds time zones where python-dateutil looks for them (the system's zone files)", async () => {
    await box.exec('from dateutil import tz\nimport datetime');
    const { value } = await box.eval(
      "[str(datetime.datetime(2024, 7, 1, 12, tzinfo=tz.gettz(name)).utcoffset()) for name in ('Europe/Paris', 'America/New_York')]",
    );
    expect(value).toEqual(['2:00:00', '-1 day, 20:00:00']);
  });

  it('refuses a package that needs a C extension with an ImportError naming it; the sandbox lives on', async () => {
    const result = await box.run('exec', 'import numpy');
    expect(result.status).toBe('exec_error');
    expect(result.error?.type).toBe('ImportError');
    expect(result.error?.message).toMatch(/_multiarray_umath.* is a compiled C extension/);
    expect((await box.eval('1 + 1')).value).toBe(2);
  });

  it('keeps the package directory read-only', async () => {
    const result = await box.run('exec', "open('/packages/six.py', 'a').write('oops')");
    expect(result.status).toBe('exec_error');
    expect(result.error?.message).toContain('Read-only file system');
  });
});
