// The public packages of the workspace, found the way pnpm finds them.
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function workspacePackages() {
  const globs = readFileSync(join(repoRoot, 'pnpm-workspace.yaml'), 'utf8')
    .split('\n')
    .map((line) => /^\s*-\s*['"]?([\w./-]+)\/\*['"]?\s*$/.exec(line)?.[1])
    .filter(Boolean);
  return globs.flatMap((parent) =>
    readdirSync(join(repoRoot, parent))
      .map((name) => join(repoRoot, parent, name))
      .filter((dir) => existsSync(join(dir, 'package.json')))
      .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) })),
  );
}

export function publicPackages() {
  return workspacePackages().filter((pkg) => !pkg.manifest.private);
}
