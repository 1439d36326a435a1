/**
 * A sandbox's host functions, checked and prepared on the caller's thread when the sandbox is
 * created: closures (`functions`) and a module's exports (`functionsModule`). The module is
 * imported here too: its `async` functions run on this thread, like closures; its other
 * functions run on the executors, which import the module themselves (see executor-calls.ts).
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidOptionsError } from '../errors.js';
import { encodeHostResult, invokeHostFunction } from './invoke.js';
import { messageOf, NO_FUNCTIONS, type FunctionsSetup, type HostAnswer, type HostCallAnswerer } from './protocol.js';

/** A host function: takes the guest's arguments, returns a value or a promise of one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HostFunction = (...args: any[]) => unknown;

/** Where a function runs: on the caller's thread (closures, async module functions) or on the executor. */
export type FunctionPlace = 'caller' | 'executor';

export interface ResolvedFunctions {
  readonly setup: FunctionsSetup;
  /** Answers the calls that come to this thread. */
  readonly answer: HostCallAnswerer;
  /** Every function by name, with where it runs. */
  readonly places: ReadonlyMap<string, FunctionPlace>;
}

/** Most functions one sandbox may be offered, and the longest name. */
export const MAX_FUNCTIONS = 1000;
export const MAX_FUNCTION_NAME_LENGTH = 128;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Names a function cannot have: keywords of either guest language (it could never be called
 * by name), names the guests give their own objects (`host`, `HostError`), and names that
 * would replace a language's machinery (`eval`, `arguments`, dunders).
 */
const RESERVED = new Set(
  [
    // Python keywords
    'False None True and as assert async await break class continue def del elif else except finally',
    'for from global if import in is lambda nonlocal not or pass raise return try while with yield',
    // JavaScript reserved words, literals and strict-mode restrictions
    'case catch const debugger default delete do enum export extends false function instanceof let',
    'new null static super switch this throw true typeof var void implements interface package',
    'private protected public arguments eval undefined NaN Infinity',
    // the guests' own names
    'host HostError',
  ]
    .join(' ')
    .split(' '),
);

function checkName(name: string): void {
  const shown = JSON.stringify(name);
  if (!IDENTIFIER.test(name)) {
    throw new InvalidOptionsError(
      `host function name ${shown} is not an identifier (letters, digits and _, not starting with a digit)`,
    );
  }
  if (name.length > MAX_FUNCTION_NAME_LENGTH) {
    throw new InvalidOptionsError(`host function name ${shown} is longer than ${MAX_FUNCTION_NAME_LENGTH} characters`);
  }
  if (RESERVED.has(name) || name.startsWith('__')) {
    throw new InvalidOptionsError(
      `host function name ${shown} is reserved (a keyword of Python or JavaScript, a dunder, or a name the guests use)`,
    );
  }
}

function moduleUrl(spec: URL | string): string {
  if (spec instanceof URL) return spec.href;
  if (typeof spec !== 'string' || spec === '') {
    throw new InvalidOptionsError('functionsModule must be a URL or a path to an ES module');
  }
  if (/^(file|data):/.test(spec)) return spec;
  return pathToFileURL(isAbsolute(spec) ? spec : resolve(spec)).href;
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new InvalidOptionsError(`functionsModule ${url} could not be loaded: ${messageOf(error)}`);
  }
}

function isAsyncFunction(fn: HostFunction): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}

/** The set's version: the same names give the same version, in every process (0: none). */
function versionOf(names: readonly string[]): number {
  if (names.length === 0) return 0;
  const version = createHash('sha256').update(names.join('\n')).digest().readUInt32LE(0);
  return version === 0 ? 1 : version;
}

function answerWith(functions: ReadonlyMap<string, HostFunction>): HostCallAnswerer {
  return (name, argumentsJson) => {
    const fn = functions.get(name);
    if (!fn) return { ok: false, message: `this sandbox has no host function named ${JSON.stringify(name)}` };
    const invoked = invokeHostFunction(name, fn, argumentsJson);
    if ('answer' in invoked) return invoked.answer;
    return Promise.resolve(invoked.pending).then(
      (settled) => encodeHostResult(name, settled),
      (error: unknown): HostAnswer => ({ ok: false, message: messageOf(error) }),
    );
  };
}

export interface FunctionsOptions {
  functions?: Readonly<Record<string, HostFunction>>;
  functionsModule?: URL | string;
}

/** Checks and prepares the functions of `options` (imports `functionsModule` on this thread). */
export async function resolveFunctions(options: FunctionsOptions, maxCalls: number): Promise<ResolvedFunctions> {
  const places = new Map<string, FunctionPlace>();
  const here = new Map<string, HostFunction>();
  const closures = options.functions;
  if (closures !== undefined) {
    if (typeof closures !== 'object' || closures === null || Array.isArray(closures)) {
      throw new InvalidOptionsError('functions must be an object of named functions');
    }
    for (const [name, fn] of Object.entries(closures)) {
      checkName(name);
      if (typeof fn !== 'function') throw new InvalidOptionsError(`functions.${name} is not a function`);
      here.set(name, fn as HostFunction);
      places.set(name, 'caller');
    }
  }
  let url: string | undefined;
  const local: string[] = [];
  if (options.functionsModule !== undefined) {
    url = moduleUrl(options.functionsModule);
    const exports = await importModule(url);
    for (const [name, fn] of Object.entries(exports)) {
      if (name === 'default' || typeof fn !== 'function') continue;
      checkName(name);
      if (places.has(name)) {
        throw new InvalidOptionsError(`host function ${name} is both in functions and in functionsModule ${url}`);
      }
      if (isAsyncFunction(fn as HostFunction)) {
        here.set(name, fn as HostFunction);
        places.set(name, 'caller');
      } else {
        local.push(name);
        places.set(name, 'executor');
      }
    }
  }
  if (places.size > MAX_FUNCTIONS) {
    throw new InvalidOptionsError(
      `a sandbox may be offered at most ${MAX_FUNCTIONS} host functions, got ${places.size}`,
    );
  }
  const names = [...places.keys()].sort();
  const setup: FunctionsSetup =
    names.length === 0
      ? { ...NO_FUNCTIONS, maxCalls }
      : { names, version: versionOf(names), local: local.sort(), maxCalls, ...(url ? { moduleUrl: url } : {}) };
  return { setup, answer: answerWith(here), places };
}
