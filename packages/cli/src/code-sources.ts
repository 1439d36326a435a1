/**
 * Where the code of a run comes from: literal arguments, files (`--file PATH`), or standard
 * input (`-` as an argument). Each source is one call; the last positional source is the
 * expression.
 */
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';

/** The argument that stands for standard input. */
export const STDIN_ARGUMENT = '-';

/** A code source the command line names but that cannot be read: a usage error. */
export class CodeSourceError extends Error {
  override name = 'CodeSourceError';
}

async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(error));
    throw new CodeSourceError(`cannot read ${what} from ${path}: ${reason}`);
  }
}

const readCodeFile = (path: string) => readTextFile(path, 'code');

/** The guest's stdin text (`--stdin-file`): a file, or `-` for this process's standard input. */
export async function readInput(path: string, stdin: NodeJS.ReadableStream): Promise<string> {
  return path === STDIN_ARGUMENT ? text(stdin) : readTextFile(path, 'stdin');
}

export interface CodeSources {
  /** Files named with --file, run as statements first, in order. */
  files: readonly string[];
  /** Positional arguments: statements, then the expression; `-` reads standard input. */
  args: readonly string[];
}

/** The statements and the expression, read. `stdin` is consulted at most once. */
export async function readCode(
  sources: CodeSources,
  stdin: NodeJS.ReadableStream,
): Promise<{ statements: string[]; expression: string | undefined }> {
  const fromStdin = sources.args.filter((arg) => arg === STDIN_ARGUMENT).length;
  if (fromStdin > 1) throw new CodeSourceError(`standard input (${STDIN_ARGUMENT}) can be read only once`);
  const stdinText = fromStdin === 1 ? await text(stdin) : '';
  const files = await Promise.all(sources.files.map(readCodeFile));
  const args = sources.args.map((arg) => (arg === STDIN_ARGUMENT ? stdinText : arg));
  return { statements: [...files, ...args.slice(0, -1)], expression: args.at(-1) };
}
