import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir as javascriptGuest } from '@component-sandbox/guest-javascript';
import { BIN, run, runWithInput } from './run-bin.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('--version and --help', () => {
  it('prints the package version', () => {
    for (const flag of ['--version', '-V']) {
      const { stdout, status } = run(flag);
      expect(stdout).toBe(`${version}\n`);
      expect(status).toBe(0);
    }
  });

  it('shows the default limits in human units', () => {
    const { stdout } = run('--help');
    expect(stdout).toMatch(/\(default: 5s\)/);
    expect(stdout).toMatch(/\(default: 20 MiB\)/);
    expect(stdout).not.toMatch(/5000|20971520/);
    expect(stdout).toMatch(/--exec-file <path>/);
    expect(stdout).toMatch(/--file <host\[:guest\]>/);
    expect(stdout).toMatch(/--tmp-limit <size>[\s\S]*?\(default: 16\s+MiB\)/);
    expect(stdout).toMatch(/--guest <dir>/);
  });
});

describe('code from files and standard input', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-code-'));
    await writeFile(join(dir, 'setup.py'), 'def main():\n    return 42\nprint("set up")\n');
    await writeFile(join(dir, 'more.py'), 'def more():\n    return main() + 1\n');
    await writeFile(join(dir, 'setup.js'), 'var answer = 42;\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs --exec-file statements first, in order, then the expression', () => {
    const { stdout, status } = run('--exec-file', join(dir, 'setup.py'), '-x', join(dir, 'more.py'), 'more()');
    expect(stdout).toBe('set up\nresult: 43\n');
    expect(status).toBe(0);
    expect(run('-l', 'javascript', '-x', join(dir, 'setup.js'), 'answer').stdout).toBe('result: 42\n');
  });

  it('evaluates nothing after files when no expression is given', () => {
    expect(run('-x', join(dir, 'setup.py')).stdout).toBe('set up\nresult: null\n');
    expect(run('-l', 'javascript', '-x', join(dir, 'setup.js')).stdout).toBe('result: null\n');
  });

  it('reads an argument from standard input when it is -', () => {
    expect(runWithInput('6 * 7\n', '-').stdout).toBe('result: 42\n');
    expect(runWithInput('x = 20\n', '-', 'x * 2 + 2').stdout).toBe('result: 42\n');
    const twice = runWithInput('1', '-', '-');
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/standard input \(-\) can be read only once/);
  });

  it('refuses a file it cannot read, exit 2, no stack trace', () => {
    const missing = run('-x', join(dir, 'missing.py'), '1');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read code from .*missing\.py: no such file/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    expect(run('-x', dir, '1').stderr).toMatch(/it is a directory/);
  });

  it('still needs some code', () => {
    const { status, stderr } = run();
    expect(status).toBe(2);
    expect(stderr).toMatch(/missing required argument/);
  });
});

describe('files: --file, --mount, --packages, /tmp', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-files-'));
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'rows.csv'), 'a,b\n1,2\n3,4\n');
    await writeFile(join(dir, 'data', 'notes.txt'), 'hello');
    await mkdir(join(dir, 'pkgs', 'greet'), { recursive: true });
    await writeFile(join(dir, 'pkgs', 'greet', '__init__.py'), 'def hi(name):\n    return f"hi {name}"\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('copies host files into /tmp and lets later calls use what earlier ones wrote', () => {
    const { stdout, status } = run(
      '--file',
      join(dir, 'rows.csv'),
      '--file',
      `${join(dir, 'rows.csv')}:in/copy.csv`,
      "import csv\nrows = list(csv.reader(open('rows.csv')))\nopen('count.txt', 'w').write(str(len(rows)))",
      "[open('/tmp/count.txt').read(), open('/tmp/in/copy.csv').read() == open('rows.csv').read()]",
    );
    expect(stdout).toBe('result: ["3", true]\n');
    expect(status).toBe(0);
  });

  it('mounts a host directory read-only and imports from --packages', () => {
    expect(run('--mount', `${join(dir, 'data')}:/data`, "open('/data/notes.txt').read()").stdout).toBe(
      'result: "hello"\n',
    );
    expect(run('--mount', `${join(dir, 'data')}:/data`, "open('/data/x', 'w')").stdout).toMatch(
      /exec error|eval error: OSError: .*Read-only file system/,
    );
    expect(run('--packages', join(dir, 'pkgs'), 'import greet', "greet.hi('sandbox')").stdout).toBe(
      'result: "hi sandbox"\n',
    );
  });

  it('reports a full /tmp as the guest error it is, and bad file flags as usage errors', () => {
    const full = run('--tmp-limit', '64KiB', "open('/tmp/big', 'wb').write(bytes(200_000))", '1');
    expect(full.stdout).toMatch(/exec error: OSError: .*No space left on device/);
    expect(full.status).toBe(1);
    const missing = run('--file', join(dir, 'missing.csv'), '1');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--file .*missing\.csv: no such file/);
    expect(run('--file', `${join(dir, 'rows.csv')}:/etc/passwd`, '1').status).toBe(2);
    expect(run('--mount', join(dir, 'data'), '1').status).toBe(2);
    expect(run('--mount', `${join(dir, 'data')}:/tmp`, '1').status).toBe(2);
    expect(run('--tmp-limit', 'lots', '1').status).toBe(2);
  });
});

describe('--guest DIR', () => {
  it('runs a guest artifact directory, its language taken from its manifest', () => {
    const { stdout, status } = run('--guest', javascriptGuest, 'var x = 20', 'x * 2 + 2');
    expect(stdout).toBe('result: 42\n');
    expect(status).toBe(0);
    expect(run('--guest', javascriptGuest, '-l', 'javascript', '[1]').stdout).toBe('result: [1]\n');
  });

  it('refuses a directory that is not a guest (exit 5) and a --lang that contradicts it (exit 2)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'cli-guest-'));
    try {
      const notGuest = run('--guest', empty, '1');
      expect(notGuest.status).toBe(5);
      expect(notGuest.stderr).toMatch(/no guest artifact at .*manifest\.json is missing/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    const mismatch = run('--guest', javascriptGuest, '--lang', 'python', '1');
    expect(mismatch.status).toBe(2);
    expect(mismatch.stderr).toMatch(/--lang python does not match .* a javascript guest/);
  });
});

describe('the result line starts a line of its own', () => {
  it('after stderr without a final newline', () => {
    const { stdout, stderr, status } = run('import sys; sys.stderr.write("err")', 'nope');
    // The guest's own stderr ends its line before the traceback, which goes to stderr too.
    expect(stderr).toBe(
      'err\n' +
        'Traceback (most recent call last):\n' +
        '  File "<eval>", line 1, in <module>\n' +
        '    nope\n' +
        "NameError: name 'nope' is not defined. Did you mean: 'None'?\n",
    );
    expect(stdout).toBe("eval error: NameError: name 'nope' is not defined\n");
    expect(status).toBe(1);
  });

  it('after stdout without a final newline, without touching complete lines', () => {
    expect(run('print("partial", end="")', '1').stdout).toBe('partial\nresult: 1\n');
    expect(run('print("a", end="")', 'print("b")', '1').stdout).toBe('ab\nresult: 1\n');
    const js = run('-l', 'javascript', 'console.log("whole")', '1');
    expect(js.stdout).toBe('whole\nresult: 1\n');
    expect(js.stderr).toBe('');
  });
});

describe('limits the engine cannot honour', () => {
  it('are refused as bad limits, exit 2', () => {
    const timeout = run('--timeout', '30d', '1');
    expect(timeout.status).toBe(2);
    expect(timeout.stderr).toMatch(/above the longest time limit the host can keep, 2147483647 ms/);
    const memory = run('-l', 'javascript', '--memory', '5GiB', '1');
    expect(memory.status).toBe(2);
    expect(memory.stderr).toMatch(/above 4294967296 \(4 GiB/);
  });
});

describe('--json with deep values', () => {
  it('passes a value 20,000 deep through intact', () => {
    const depth = 20_000;
    const { stdout, stderr, status } = run(
      '--json',
      `import sys\nsys.setrecursionlimit(100_000)\ndeep = []\nfor _ in range(${depth - 1}): deep = [deep]`,
      'deep',
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const expected = '['.repeat(depth) + ']'.repeat(depth);
    // Parsed here with JSON.parse (iterative), never re-serialised.
    const report = JSON.parse(stdout) as { status: string; json: string; value: unknown };
    expect(report.status).toBe('ok');
    expect(report.json).toBe(expected);
    expect(stdout).toContain(`"value":${expected}`);
  });

  it('passes a deep value through at the default recursion limit too', () => {
    const { stdout, status } = run('--json', 'deep = []\nfor _ in range(19999): deep = [deep]', 'deep');
    expect(status).toBe(0);
    expect(stdout).toContain(`"json":"${'['.repeat(20000)}${']'.repeat(20000)}"`);
  });

  it('reports a guest error for a deep value no JSON can hold, no crash', () => {
    const { stdout, status } = run(
      '--json',
      'deep = []\nfor _ in range(20000): deep = [deep]\ndeep.append(deep)',
      'deep',
    );
    expect(status).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      status: 'eval_error',
      error: { type: 'ValueError', message: 'ValueError: Circular reference detected' },
    });
  });
});

describe('APIs the JavaScript sandbox does not have', () => {
  it('are TypeErrors on the command line too', () => {
    expect(run('-l', 'javascript', 'fetch("https://example.com")', '1').stdout).toBe(
      'exec error: TypeError: fetch is not available in the sandbox\n',
    );
    expect(run('-l', 'javascript', 'import("fs")').stdout).toBe(
      'eval error: TypeError: import() is not available in the sandbox\n',
    );
  });
});

describe('a reader that goes away', () => {
  it('ends the CLI quietly, with no stack trace (as `| head` does)', () => {
    // The shell closes the pipe after one byte; the CLI still has a long line to write.
    const result = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" '"x" * 2_000_000' | head -c 1`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stdout).toBe('r');
    expect(result.stderr).toBe('');
  });
});
