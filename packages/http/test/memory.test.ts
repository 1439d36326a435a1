/**
 * A flood of clients that ask for large values and never read their answers must not grow the
 * server without bound: the real bin, its RSS read from /proc/<pid>/status (VmHWM: the peak).
 */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startBin } from './bin.js';
import { findPythonGuest, request } from './helpers.js';

const python = await findPythonGuest();

const MiB = 1024 * 1024;
/**
 * The bounds the README states for this flood with the default --max-result: what the server
 * holds while 16 answers wait unread, and its peak while the guests build the values (each
 * 30 MB value passes through a 128 MiB guest and the host before it is refused).
 */
const HELD_BOUND_BYTES = 1024 * MiB;
const PEAK_BOUND_BYTES = 2048 * MiB;

async function rss(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
}

/** The host's longest wait before it collects released guest memories, with room for the collection. */
const SETTLE_MS = 5000 + 2000;

/** The resident size once it drops under the bound, or the last reading at the end of the settle window. */
async function settledRss(pid: number): Promise<number> {
  const until = performance.now() + SETTLE_MS;
  for (;;) {
    const held = await rss(pid, 'VmRSS');
    if (held < HELD_BOUND_BYTES || performance.now() >= until) return held;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('memory held for unsent answers', () => {
  it.skipIf(process.platform !== 'linux' || !python.dir)(
    '16 clients asking for 30 MB values and never reading keep the server under the bound',
    async () => {
      const { child, url } = await startBin(
        [
          '--default-language',
          'python',
          '--guest',
          `python=${python.dir}`,
          '--memory-limits',
          '20MiB,128MiB',
          '--max-queued-runs',
          '16',
          '--queue-timeout',
          '60s',
        ],
        children,
      );
      const { port } = new URL(url);
      const body = JSON.stringify({ expression: "'x' * 30_000_000", memoryLimitBytes: 128 * MiB });
      const sockets: Socket[] = [];
      const answered: Promise<string>[] = [];
      for (let i = 0; i < 16; i++) {
        const socket = connect(Number(port), '127.0.0.1');
        sockets.push(socket);
        socket.write(
          `POST /v1/run HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
        );
        // Read until the answer names its error (the head and the body may come in separate
        // chunks), then stop reading for good.
        answered.push(
          new Promise((resolve) => {
            let seen = '';
            const onData = (chunk: Buffer): void => {
              seen += chunk.toString();
              if (!/ResultTooLarge|"status"/.test(seen)) return;
              socket.off('data', onData);
              socket.pause();
              resolve(seen);
            };
            socket.on('data', onData);
          }),
        );
      }
      const heads = await Promise.all(answered);
      for (const head of heads) {
        expect(head).toMatch(/^HTTP\/1\.1 200/);
        expect(head).toMatch(/ResultTooLarge/);
      }
      // The refused values' guest memories are freed once the server's threads collect garbage,
      // which the host schedules within COLLECT_WITHIN_MS of a release: what the server holds
      // for the waiting answers is what remains after that.
      const held = await settledRss(child.pid!);
      const peak = await rss(child.pid!, 'VmHWM');
      console.log(
        `server RSS with 16 unread answers: ${(held / MiB).toFixed(0)} MiB (peak ${(peak / MiB).toFixed(0)} MiB)`,
      );
      expect(held).toBeLessThan(HELD_BOUND_BYTES);
      expect(peak).toBeLessThan(PEAK_BOUND_BYTES);
      // The server still answers others.
      expect((await request(url, 'POST', '/v1/run', { body: { expression: '2 + 2' } })).body.value).toBe(4);
      for (const socket of sockets) socket.destroy();
    },
    180_000,
  );
});
