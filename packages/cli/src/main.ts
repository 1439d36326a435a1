import { Command, InvalidArgumentError, Option } from 'commander';
import { SandboxError } from '@component-sandbox/host';
import { GuestUnavailableError, LANGUAGES, type Language } from './guests.js';
import { EXIT_CODES, runSnippets, summaryLine } from './run.js';
import { parseDuration, parseSize } from '@component-sandbox/host';

const USAGE_EXIT = 2;
const GUEST_UNAVAILABLE_EXIT = 5;

function asArgument<T>(parse: (text: string) => T) {
  return (text: string): T => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

const program = new Command()
  .name('component-sandbox')
  .usage('[options] [STATEMENT...] EXPRESSION')
  .description(
    'Run zero or more STATEMENTs, then evaluate EXPRESSION, in one fresh WebAssembly sandbox.\n' +
      'Globals persist from one argument to the next; the value is printed as JSON.',
  )
  .argument('<code...>', 'statements to execute, then the expression to evaluate (last)')
  .addOption(new Option('-l, --lang <language>', 'guest language').choices(LANGUAGES).default('python'))
  .option('-t, --timeout <duration>', 'time limit of each call (e.g. 5s, 500ms)', asArgument(parseDuration), 5000)
  .option('-m, --memory <size>', 'guest memory limit (e.g. 20MiB, 64MiB)', asArgument(parseSize), 20 * 1024 * 1024)
  .option('--json', 'print one JSON object instead of the demo lines')
  .addHelpText(
    'after',
    `
Output (as the reference demo): "result: <json>", "exec error: <ExcType: message>",
"eval error: <ExcType: message>" or "timeout!". What the guest prints goes to stdout/stderr
before that line.

Exit codes:
  0  result printed
  1  the guest raised an error (exec error / eval error)
  2  bad command line or limits
  3  timeout
  4  the guest ran out of memory at the limit, or crashed
  5  the guest for --lang is not installed or not built

Examples:
  component-sandbox "2 + 2"
  component-sandbox $'global foo\\ndef foo(): return 42' 'foo()'
  component-sandbox --lang javascript 'var x = 20' 'x * 2 + 2'`,
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

try {
  program.parse();
} catch (error) {
  const exitCode = (error as { exitCode?: number }).exitCode ?? USAGE_EXIT;
  process.exit(exitCode === 0 ? 0 : USAGE_EXIT);
}

const options = program.opts<{ lang: Language; timeout: number; memory: number; json?: boolean }>();
const code = program.args;
const expression = code.at(-1)!;
const statements = code.slice(0, -1);

try {
  const report = await runSnippets({
    language: options.lang,
    statements,
    expression,
    timeoutMs: options.timeout,
    memoryLimitBytes: options.memory,
    onOutput: options.json
      ? undefined
      : (stdout, stderr) => {
          process.stdout.write(stdout);
          process.stderr.write(stderr);
        },
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(`${summaryLine(report)}\n`);
  }
  process.exitCode = EXIT_CODES[report.status];
} catch (error) {
  if (error instanceof GuestUnavailableError) {
    process.stderr.write(`component-sandbox: ${error.message}\n`);
    process.exitCode = GUEST_UNAVAILABLE_EXIT;
  } else if (error instanceof SandboxError) {
    process.stderr.write(`component-sandbox: ${error.message}\n`);
    process.exitCode = error.code === 'ARTIFACT_INVALID' ? GUEST_UNAVAILABLE_EXIT : USAGE_EXIT;
  } else {
    throw error;
  }
}
