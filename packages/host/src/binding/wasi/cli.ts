/** wasi:cli@0.2: the interfaces a command's imports world names (no `run` export). */
import { list, option, own, result, string, tuple, u8 } from '../canon.js';
import { resource } from '../resource-type.js';
import { defineInterface, func, resourceDef } from '../wit.js';
import { inputStream, outputStream } from './io.js';

const TERMINAL_INPUT = 'wasi:cli/terminal-input';
const TERMINAL_OUTPUT = 'wasi:cli/terminal-output';

export const terminalInput = resource(TERMINAL_INPUT, 'terminal-input');
export const terminalOutput = resource(TERMINAL_OUTPUT, 'terminal-output');

export const environmentInterface = defineInterface('wasi:cli/environment', {
  functions: {
    'get-environment': func({}, list(tuple(string, string))),
    'get-arguments': func({}, list(string)),
    'initial-cwd': func({}, option(string)),
  },
});

export const exitInterface = defineInterface('wasi:cli/exit', {
  functions: {
    exit: func({ status: result() }),
    // @unstable(feature = cli-exit-with-code) in 0.2, typed here so that a guest built with it
    // gets a clear "the host does not provide" error rather than an unknown-function one.
    'exit-with-code': func({ 'status-code': u8 }),
  },
});

export const stdinInterface = defineInterface('wasi:cli/stdin', {
  functions: { 'get-stdin': func({}, own(inputStream)) },
});
export const stdoutInterface = defineInterface('wasi:cli/stdout', {
  functions: { 'get-stdout': func({}, own(outputStream)) },
});
export const stderrInterface = defineInterface('wasi:cli/stderr', {
  functions: { 'get-stderr': func({}, own(outputStream)) },
});

export const terminalInputInterface = defineInterface(TERMINAL_INPUT, { resources: [resourceDef(terminalInput)] });
export const terminalOutputInterface = defineInterface(TERMINAL_OUTPUT, { resources: [resourceDef(terminalOutput)] });

export const terminalStdinInterface = defineInterface('wasi:cli/terminal-stdin', {
  functions: { 'get-terminal-stdin': func({}, option(own(terminalInput))) },
});
export const terminalStdoutInterface = defineInterface('wasi:cli/terminal-stdout', {
  functions: { 'get-terminal-stdout': func({}, option(own(terminalOutput))) },
});
export const terminalStderrInterface = defineInterface('wasi:cli/terminal-stderr', {
  functions: { 'get-terminal-stderr': func({}, option(own(terminalOutput))) },
});
