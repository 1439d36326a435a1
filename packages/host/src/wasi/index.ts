/**
 * The complete set of WASI 0.2 imports a sandbox may receive. Deny by default: no environment,
 * no arguments, stdin only as the text a call is given, no sockets, no network; files only from read-only mounts and the
 * sandbox's own scratch directory; clocks and randomness allowed. Anything else a component asks for is refused when it is loaded.
 */
import { randomFillSync } from 'node:crypto';
import { createFilesystem, type FilesystemOptions } from './filesystem-imports.js';
import {
  InputStream,
  IoError,
  OutputStream,
  Pollable,
  emptySource,
  poll,
  type ByteSink,
  type ByteSource,
} from './io.js';

export { setSleepInterrupt } from './io.js';

export type { ReadOnlyMount } from './filesystem.js';
export type { FilesystemOptions } from './filesystem-imports.js';

/** Interfaces (without version) the host implements; everything else is refused. */
export const SUPPORTED_INTERFACES: ReadonlySet<string> = new Set([
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
  'wasi:clocks/monotonic-clock',
  'wasi:clocks/wall-clock',
  'wasi:filesystem/types',
  'wasi:filesystem/preopens',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
  'wasi:random/random',
  'wasi:random/insecure',
  'wasi:random/insecure-seed',
]);

/** Strips the `@0.2.x` version from an interface name. */
export function interfaceName(specifier: string): string {
  return specifier.replace(/@[^@/]*$/, '');
}

/** Thrown through the guest when it calls wasi:cli/exit; the sandbox cannot continue. */
export class GuestExit extends Error {
  override name = 'GuestExit';
  constructor(readonly status: { tag: 'ok' | 'err' }) {
    super(`the guest called exit (${status.tag})`);
  }
}

class TerminalInput {}
class TerminalOutput {}

const MAX_RANDOM_CHUNK = 65536;

/** No guest memory is bigger (65536 pages of 64 KiB), so no request beyond it can be delivered. */
const MAX_GUEST_MEMORY_BYTES = 2 ** 32;

/**
 * The interface has no error case, so an impossible request (more bytes than the guest's memory
 * could ever receive) traps, with a message saying why, before the host allocates anything.
 */
function randomBytesUpTo(maxBytes: number) {
  return (length: bigint): Uint8Array => {
    if (length > BigInt(maxBytes)) {
      throw new RangeError(`the guest asked for ${length} random bytes, more than its memory limit of ${maxBytes}`);
    }
    return randomBytes(length);
  };
}

function randomBytes(length: bigint): Uint8Array {
  const bytes = new Uint8Array(Number(length));
  for (let offset = 0; offset < bytes.length; offset += MAX_RANDOM_CHUNK) {
    randomFillSync(bytes, offset, Math.min(MAX_RANDOM_CHUNK, bytes.length - offset));
  }
  return bytes;
}

function randomU64(): bigint {
  return new DataView(randomBytes(8n).buffer).getBigUint64(0, true);
}

export interface WasiOptions extends FilesystemOptions {
  stdout: ByteSink;
  stderr: ByteSink;
  /** What the guest reads on stdin (a CallInput, set per call); default: end of file. */
  stdin?: ByteSource;
  /** The guest's memory limit: bounds what a single host call may allocate for it. */
  memoryLimitBytes?: number;
}

export function createWasiImports(options: WasiOptions): Record<string, Record<string, unknown>> {
  const stdout = new OutputStream(options.stdout);
  const stderr = new OutputStream(options.stderr);
  const stdin = new InputStream(options.stdin ?? emptySource);
  const monotonicNow = () => process.hrtime.bigint();
  const guestRandomBytes = randomBytesUpTo(options.memoryLimitBytes ?? MAX_GUEST_MEMORY_BYTES);

  return {
    'wasi:cli/environment': {
      getEnvironment: () => [],
      getArguments: () => [],
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit: (status: { tag: 'ok' | 'err' }) => {
        throw new GuestExit(status);
      },
    },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:clocks/monotonic-clock': {
      now: monotonicNow,
      resolution: () => 1n,
      subscribeInstant: (when: bigint) => new Pollable(when),
      subscribeDuration: (duration: bigint) => new Pollable(monotonicNow() + duration),
    },
    'wasi:clocks/wall-clock': {
      now: () => {
        const nanos = BigInt(Date.now()) * 1_000_000n;
        return { seconds: nanos / 1_000_000_000n, nanoseconds: Number(nanos % 1_000_000_000n) };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    },
    ...createFilesystem(options),
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': { Pollable, poll },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:random/random': { getRandomBytes: guestRandomBytes, getRandomU64: randomU64 },
    'wasi:random/insecure': { getInsecureRandomBytes: guestRandomBytes, getInsecureRandomU64: randomU64 },
    'wasi:random/insecure-seed': { insecureSeed: (): [bigint, bigint] => [randomU64(), randomU64()] },
  };
}
