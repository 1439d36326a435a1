/** The real bin as a child process, for tests of the command line, shutdown and memory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/component-sandbox-http.js', import.meta.url));

export interface Started {
  child: ChildProcess;
  url: string;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** Runs the bin to completion (a bad command line, --help): exit code and output. */
export function runBin(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

/** Starts the bin on a free loopback port; resolves once it logs that it listens. */
export function startBin(args: string[], children: ChildProcess[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [BIN, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, ...env },
  });
  children.push(child);
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bin did not start in time; stderr: ${stderr}`)), 60_000);
    void exited.then((code) => reject(new Error(`the bin exited early (${code}): ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.event === 'listening') {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${entry.port as number}`, logs, exited });
      }
    });
  });
}
