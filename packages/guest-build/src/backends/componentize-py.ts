/**
 * python / componentize-py: the reference toolchain, used when `componentize-py` is on PATH
 * (`pip install componentize-py`). It bundles CPython and the stdlib into the component, so the
 * artifact needs no read-only tree.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { access, constants } from 'node:fs/promises';
import type { Backend, BackendInput, BackendOutput } from '../backend.js';
import { assembleAppTree, GUEST_MODULE } from '../app-tree.js';
import { GuestBuildError } from '../errors.js';

export const COMPONENTIZE_PY = 'componentize-py';

export interface Invocation {
  command: string;
  args: string[];
  cwd: string;
}

/**
 * `componentize-py -d <wit> -w <world> componentize <module> -o <out>`: exactly the reference
 * demo's command, run in the directory that holds `<module>.py`.
 */
export function componentizePyInvocation(input: { witDir: string; world: string; workDir: string }): Invocation {
  return {
    command: COMPONENTIZE_PY,
    args: [
      '-d',
      input.witDir,
      '-w',
      input.world,
      'componentize',
      GUEST_MODULE,
      '-o',
      join(input.workDir, 'sandbox.wasm'),
    ],
    cwd: input.workDir,
  };
}

/** The first `componentize-py` on PATH, if any. */
export async function findOnPath(command: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function run(invocation: Invocation, log: (message: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(invocation.command, invocation.args, {
      cwd: invocation.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else
        reject(
          new Error(
            `${invocation.command} exited with code ${code}:\n${output.trim().split('\n').slice(-15).join('\n')}`,
          ),
        );
    });
    log(`running ${invocation.command} ${invocation.args.join(' ')}`);
  });
}

export const componentizePyBackend: Backend = {
  name: 'componentize-py',
  language: 'python',

  async availability() {
    return (await findOnPath(COMPONENTIZE_PY))
      ? { available: true }
      : { available: false, reason: `${COMPONENTIZE_PY} is not on PATH (pip install componentize-py)` };
  },

  async build(input: BackendInput): Promise<BackendOutput> {
    await assembleAppTree(input, input.workDir);
    const invocation = componentizePyInvocation(input);
    let version = 'unknown';
    try {
      version = (await run({ ...invocation, args: ['--version'] }, () => {})).trim();
      await run(invocation, input.log);
    } catch (error) {
      throw new GuestBuildError(
        'COMPONENTIZE_FAILED',
        `componentize-py could not build ${input.sourcePath}:\n${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return {
      component: await readFile(join(input.workDir, 'sandbox.wasm')),
      readOnlyTrees: [],
      toolchain: { 'componentize-py': version },
    };
  },
};
