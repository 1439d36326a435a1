// Real third-party pure-Python packages for tests: Debian's `python3-*` packages, downloaded
// with apt and unpacked (never installed), so none of their code is in the repository.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function download(dir, packages) {
  execFileSync('apt-get', ['download', ...packages], { cwd: dir, stdio: 'pipe' });
}

/** A new directory laid out like a `pip install --target` tree, holding `packages` (Debian names). */
export function unpackDebianPythonPackages(packages) {
  const dir = mkdtempSync(join(tmpdir(), 'debian-python-'));
  try {
    download(dir, packages);
  } catch {
    // A machine that never fetched its package lists: fetch them once, then try again.
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'pipe' });
    download(dir, packages);
  }
  const root = join(dir, 'root');
  for (const deb of readdirSync(dir).filter((name) => name.endsWith('.deb'))) {
    execFileSync('dpkg', ['-x', join(dir, deb), root], { stdio: 'pipe' });
  }
  return join(root, 'usr', 'lib', 'python3', 'dist-packages');
}
