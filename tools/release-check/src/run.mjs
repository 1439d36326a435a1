// Small process helpers for the release checks: run a command, or start a server and wait.
// Asynchronous on purpose: a test runner's worker must keep answering while npm works.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export function run(command, args, { allowFailure = false, timeoutMs = 600_000, ...options } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status !== 0 && !allowFailure) {
        reject(new Error(`${command} ${args.join(' ')} exited ${status}:\n${stdout}\n${stderr}`));
      } else {
        resolve({ status, stdout, stderr });
      }
    });
  });
}

/** A TCP port that was free a moment ago, for servers that cannot report the one they got. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a long-running process and resolves once `ready` matches its output. */
export function startProcess(command, args, { ready, timeoutMs = 60_000, ...options }) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} did not start in ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}) before it was ready:\n${output}`));
    });
  });
  return { child, started, output: () => output };
}
