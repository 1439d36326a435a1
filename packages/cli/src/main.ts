import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_MEMORY_LIMIT_BYTES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TMP_LIMIT_BYTES,
  type Mount,
  SandboxError,
  formatBytes,
  formatDuration,
  loadGuest,
  parseDuration,
  parseSize,
} from '@component-sandbox/host';
import { CodeSourceError, STDIN_ARGUMENT, readCode, readInput } from './code-sources.js';
import { GuestUnavailableError, LANGUAGES, type Language } from './guests.js';
import { LineTrackingWriter } from './line-ends.js';
import { FileCopyError, parseFileCopy, parseMount, type FileCopy } from './files.js';
import { EXIT_CODES, reportJson, runSnippets, summaryLine } from './run.js';

const USAGE_EXIT = 2;
/** `--stdin-file -`: the guest's stdin is this process's. */
const PROCESS_STDIN = '-';
const GUEST_UNAVAILABLE_EXIT = 5;

/** What a run with files but no expression evaluates: nothing, in each language's words. */
const NOTHING: Record<Language, string> = { python: 'None', javascript: 'null' };

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function asArgument<T>(parse: (text: string, previous: T) => T) {
  return (text: string, previous: T): T => {
    try {
      return parse(text, previous);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

const program = new Command()
  .name('component-sandbox')
  .version(version, '-V, --version', 'print the version')
  .usage('[options] [STATEMENT...] EXPRESSION   |   --cell [options] CELL...')
  .description(
    'Run zero or more STATEMENTs, then evaluate EXPRESSION, in one fresh WebAssembly sandbox.\n' +
      'Globals persist from one argument to the next; the value is printed as JSON.',
  )
  .argument('[code...]', `statements to execute, then the expression to evaluate (last); ${STDIN_ARGUMENT} reads stdin`)
  .addOption(new Option('-l, --lang <language>', 'guest language').choices(LANGUAGES).default('python'))
  .addOption(
    new Option('-t, --timeout <duration>', 'time limit of each call')
      .argParser(asArgument(parseDuration))
      .default(DEFAULT_TIMEOUT_MS, formatDuration(DEFAULT_TIMEOUT_MS)),
  )
  .addOption(
    new Option('-m, --memory <size>', 'guest memory limit')
      .argParser(asArgument(parseSize))
      .default(DEFAULT_MEMORY_LIMIT_BYTES, formatBytes(DEFAULT_MEMORY_LIMIT_BYTES)),
  )
  .addOption(
    new Option('-x, --exec-file <path>', 'run the statements in a file first (repeatable, in order)').argParser(
      (path: string, previous: string[] | undefined) => [...(previous ?? []), path],
    ),
  )
  .addOption(
    new Option(
      '-f, --file <host[:guest]>',
      'copy a host file into the sandbox first, to GUEST (default /tmp/<its name>; a relative GUEST is below /tmp) (repeatable)',
    ).argParser(
      asArgument((text: string, previous: FileCopy[] | undefined) => [...(previous ?? []), parseFileCopy(text)]),
    ),
  )
  .addOption(
    new Option(
      '--mount <host:guest>',
      'let the guest read a host directory at GUEST, read-only (repeatable)',
    ).argParser(asArgument((text: string, previous: Mount[] | undefined) => [...(previous ?? []), parseMount(text)])),
  )
  .option('--packages <dir>', 'Python: a directory of pure-Python packages (pip install --target DIR) to import from')
  .option('--cell', 'run every argument (and --exec-file) as a notebook cell; print the last cell’s value, if any')
  .option('--stdin <text>', 'what the guest reads on stdin (input(), sys.stdin) in every call')
  .option('--stdin-file <path>', `read the guest's stdin from a file ("${PROCESS_STDIN}": this process's stdin)`)
  .option('--functions <module>', 'an ES module whose exported functions the guest may call')
  .addOption(
    new Option('--tmp-limit <size>', 'how much the writable /tmp may hold')
      .argParser(asArgument(parseSize))
      .default(DEFAULT_TMP_LIMIT_BYTES, formatBytes(DEFAULT_TMP_LIMIT_BYTES)),
  )
  .option(
    '--guest <dir>',
    'run this guest artifact directory (from component-sandbox-build) instead of the default guest',
  )
  .option('--json', 'print one JSON object instead of the demo lines')
  .addHelpText(
    'after',
    `
Code: each argument is one call; "${STDIN_ARGUMENT}" stands for the code read from standard input.
Files named with --exec-file run first, as statements; with --exec-file and no argument, nothing
is evaluated afterwards and the result is null.

Cells (--cell): each argument is one cell, run in order; the value of the last cell's last
expression is printed (IPython's rule: none after a statement, a None, or a trailing ";").

Input: --stdin TEXT (or --stdin-file PATH) is what input() and sys.stdin read, in every call;
without it they read end of file.

Host functions: --functions ./tools.mjs offers the module's exported functions to the guest,
as globals and as attributes of the module host (Python: import host).

Files: the guest can write /tmp (up to --tmp-limit; it is its working directory). --file copies
host files in before the first call; --mount shows a host directory read-only.

Output (as the reference demo): "result: <json>", "exec error: <ExcType: message>",
"eval error: <ExcType: message>" or "timeout!". What the guest prints goes to stdout/stderr
before that line, which always starts a line of its own.

Exit codes:
  0  result printed
  1  the guest raised an error (exec error / eval error)
  2  bad command line or limits
  3  timeout
  4  the guest ran out of memory at the limit, or crashed
  5  the guest for --lang (or --guest) is not installed, not built, or not valid
  130  the call was cancelled (only through the library, with an AbortSignal)

Examples:
  component-sandbox "2 + 2"
  component-sandbox $'global foo\\ndef foo(): return 42' 'foo()'
  component-sandbox --lang javascript 'var x = 20' 'x * 2 + 2'
  component-sandbox --exec-file setup.py 'main()'
  component-sandbox --file data.csv "len(open('data.csv').read().splitlines())"
  component-sandbox --mount ./photos:/photos "__import__('os').listdir('/photos')"
  component-sandbox --cell $'import math\nmath.sqrt(16)'
  component-sandbox --stdin 'Ada' 'f"hello {input()}"'
  component-sandbox --functions ./tools.mjs 'lookup("ada")'
  echo '6 * 7' | component-sandbox -`,
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

try {
  program.parse();
} catch (error) {
  const exitCode = (error as { exitCode?: number }).exitCode ?? USAGE_EXIT;
  process.exit(exitCode === 0 ? 0 : USAGE_EXIT);
}

const options = program.opts<{
  lang: Language;
  timeout: number;
  memory: number;
  execFile?: string[];
  file?: FileCopy[];
  mount?: Mount[];
  packages?: string;
  tmpLimit: number;
  guest?: string;
  json?: boolean;
  cell?: boolean;
  stdin?: string;
  stdinFile?: string;
  functions?: string;
}>();

function usageError(message: string): never {
  process.stderr.write(`component-sandbox: ${message}\n(run with --help for usage)\n`);
  process.exit(USAGE_EXIT);
}

/** The language of the run: a custom guest's own, which an explicit --lang must agree with. */
async function runLanguage(): Promise<Language> {
  if (options.guest === undefined) return options.lang;
  let language: Language;
  try {
    language = (await loadGuest(options.guest)).manifest.language;
  } catch (error) {
    if (!(error instanceof SandboxError)) throw error;
    process.stderr.write(`component-sandbox: ${error.message}\n`);
    process.exit(GUEST_UNAVAILABLE_EXIT);
  }
  if (program.getOptionValueSource('lang') === 'cli' && options.lang !== language) {
    usageError(`--lang ${options.lang} does not match the guest in ${options.guest}, a ${language} guest`);
  }
  return language;
}

const files = options.execFile ?? [];
if (program.args.length === 0 && files.length === 0) {
  usageError(`missing required argument 'code' (${options.cell ? 'a CELL' : 'an EXPRESSION'}, or --exec-file)`);
}

if (options.stdin !== undefined && options.stdinFile !== undefined)
  usageError('give --stdin or --stdin-file, not both');
if (options.stdinFile === PROCESS_STDIN && program.args.includes(STDIN_ARGUMENT)) {
  usageError(
    `standard input cannot be both code (${STDIN_ARGUMENT}) and the guest's stdin (--stdin-file ${PROCESS_STDIN})`,
  );
}

let code: Awaited<ReturnType<typeof readCode>>;
let guestStdin = options.stdin;
try {
  code = await readCode({ files, args: program.args }, process.stdin);
  if (options.stdinFile !== undefined) guestStdin = await readInput(options.stdinFile, process.stdin);
} catch (error) {
  if (error instanceof CodeSourceError) usageError(error.message);
  throw error;
}

// A reader that goes away (`| head`) only loses the rest of the output, as with any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

const language = await runLanguage();
const stdout = new LineTrackingWriter(process.stdout);
const stderr = new LineTrackingWriter(process.stderr);

try {
  const report = await runSnippets({
    language,
    ...(options.guest !== undefined ? { guestDir: options.guest } : {}),
    statements: code.statements,
    // Cells need no expression: the last cell's value is the result.
    ...(code.expression !== undefined || !options.cell ? { expression: code.expression ?? NOTHING[language] } : {}),
    timeoutMs: options.timeout,
    memoryLimitBytes: options.memory,
    tmpLimitBytes: options.tmpLimit,
    mounts: options.mount ?? [],
    copies: options.file ?? [],
    ...(options.packages !== undefined ? { packages: options.packages } : {}),
    ...(options.cell ? { cells: true } : {}),
    ...(guestStdin !== undefined ? { stdin: guestStdin } : {}),
    ...(options.functions !== undefined ? { functionsModule: options.functions } : {}),
    onOutput: options.json
      ? undefined
      : (out, err) => {
          stdout.write(out);
          stderr.write(err);
        },
  });
  if (options.json) {
    process.stdout.write(`${reportJson(report)}\n`);
  } else {
    stderr.endLine();
    stdout.endLine();
    // The demo's one line stays on stdout; the traceback that explains it goes to stderr.
    if (report.error?.traceback) process.stderr.write(`${report.error.traceback.replace(/\n?$/, '\n')}`);
    const summary = summaryLine(report);
    if (summary !== undefined) process.stdout.write(`${summary}\n`);
  }
  process.exitCode = EXIT_CODES[report.status];
} catch (error) {
  if (error instanceof FileCopyError) {
    usageError(error.message);
  } else if (error instanceof GuestUnavailableError) {
    process.stderr.write(`component-sandbox: ${error.message}\n`);
    process.exitCode = GUEST_UNAVAILABLE_EXIT;
  } else if (error instanceof SandboxError) {
    process.stderr.write(`component-sandbox: ${error.message}\n`);
    process.exitCode = error.code === 'ARTIFACT_INVALID' ? GUEST_UNAVAILABLE_EXIT : USAGE_EXIT;
  } else {
    throw error;
  }
}
