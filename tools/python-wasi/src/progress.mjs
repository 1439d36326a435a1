// Progress reporting and logged subprocesses.
//
// The cross build prints tens of thousands of compiler lines; a person only needs to know which
// phase is running and how long it took. So every command's output goes to one log file, and
// on failure the error names that file and quotes its last lines.

import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';

const LOG_TAIL_LINES = 25;

/** Default sink for progress lines: stderr, so stdout stays clean for the result path. */
export function stderrLog(message) {
  process.stderr.write(`${message}\n`);
}

/** How often a long phase says it is still running, so a quiet terminal never looks hung. */
const HEARTBEAT_MS = 30_000;

/**
 * Runs `work` as a named phase: logs its start, a heartbeat while it runs, then its duration.
 * @template T
 * @param {(message: string) => void} log
 * @param {string} name
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function phase(log, name, work) {
  const started = performance.now();
  log(`[python-wasi] ${name} ...`);
  const heartbeat = setInterval(() => log(`[python-wasi] ${name} ... ${secondsSince(started)} s`), HEARTBEAT_MS);
  heartbeat.unref();
  try {
    const result = await work();
    log(`[python-wasi] ${name} done (${secondsSince(started)} s)`);
    return result;
  } finally {
    clearInterval(heartbeat);
  }
}

export function secondsSince(startedMs) {
  return ((performance.now() - startedMs) / 1000).toFixed(1);
}

/**
 * Runs a command with its stdout and stderr appended to `logFile`. Resolves on exit code 0;
 * otherwise rejects with the command, the log's path and its tail.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, logFile: string }} options
 */
export function runLogged(command, args, { cwd, env, logFile }) {
  appendFileSync(logFile, `\n$ ${[command, ...args].join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const append = (chunk) => appendFileSync(logFile, chunk);
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    child.on('error', (error) => reject(commandError(command, args, logFile, error.message)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(commandError(command, args, logFile, signal ? `killed by ${signal}` : `exit code ${code}`));
    });
  });
}

/**
 * Runs a short command and returns its stdout; for queries (versions, package status).
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv }} [options]
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
export function capture(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) => resolve({ code: null, stdout, stderr: error.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function commandError(command, args, logFile, reason) {
  const error = new Error(
    `${command} ${args.join(' ')} failed (${reason}).\n` +
      `Full log: ${logFile}\n--- last lines ---\n${tailOf(logFile)}`,
  );
  error.logFile = logFile;
  return error;
}

function tailOf(file) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } catch {
    return '(log unreadable)';
  }
}
