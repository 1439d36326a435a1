/**
 * Host calls as an executor thread serves them, for one guest instance: counted against the
 * per-call cap, then run here (a synchronous function of the `functionsModule`, which every
 * executor imports once) or sent to the caller's thread (closures, async functions), where the
 * executor blocks until the answer comes.
 */
import type { HostFunctionsImport } from '../binding/index.js';
import { invokeHostFunction } from './invoke.js';
import { messageOf, type FunctionsSetup, type HostAnswer } from './protocol.js';

type ModuleExports = Record<string, unknown>;

/** Functions modules this thread has imported (or failed to), by URL. */
const modules = new Map<string, { exports: ModuleExports } | { failure: string }>();

/** Imports `setup`'s module on this thread unless that happened already. */
export async function loadFunctionsModule(setup: FunctionsSetup | undefined): Promise<void> {
  const url = setup?.moduleUrl;
  if (!url || modules.has(url)) return;
  try {
    modules.set(url, { exports: (await import(url)) as ModuleExports });
  } catch (error) {
    modules.set(url, { failure: messageOf(error) });
  }
}

/** Whether `setup`'s module must be imported before its sandbox's next call. */
export function needsFunctionsModule(setup: FunctionsSetup | undefined): boolean {
  return setup?.moduleUrl !== undefined && !modules.has(setup.moduleUrl);
}

/** Results shorter than this (in UTF-16 units, so at most 3x in UTF-8 bytes) skip the room check. */
const SMALL_RESULT_CHARS = 16 * 1024;

/** Sends a call to the caller's thread and blocks until it answers. */
export type CallerHop = (name: string, argumentsJson: string) => HostAnswer;

export class HostCalls implements HostFunctionsImport {
  #made = 0;
  readonly #names: ReadonlySet<string>;
  readonly #local: ReadonlySet<string>;

  constructor(
    private readonly setup: FunctionsSetup,
    private readonly hop: CallerHop,
    /** Bytes the guest's memory may still grow by: a bigger result could not be received. */
    private readonly room: () => number,
  ) {
    this.#names = new Set(setup.names);
    this.#local = new Set(setup.local);
  }

  /** A guest call starts: it may make `maxCalls` host calls. */
  begin(): void {
    this.#made = 0;
  }

  functionsVersion(): number {
    return this.setup.version;
  }

  functionNames(): readonly string[] {
    return this.setup.names;
  }

  call(name: string, argumentsJson: string): string {
    if (!this.#names.has(name)) throw `this sandbox has no host function named ${JSON.stringify(name)}`;
    this.#made += 1;
    if (this.#made > this.setup.maxCalls) {
      throw `this call has made ${this.setup.maxCalls} host calls, the most maxHostCalls allows; ${name} was not called`;
    }
    const answer = this.#local.has(name) ? this.#runHere(name, argumentsJson) : this.hop(name, argumentsJson);
    if (!answer.ok) throw answer.message;
    // Small results always fit (the guest keeps headroom); only big ones are checked.
    if (answer.json.length < SMALL_RESULT_CHARS) return answer.json;
    const bytes = Buffer.byteLength(answer.json, 'utf8');
    const room = this.room();
    if (bytes > room) {
      throw `the result of ${name} is ${bytes} bytes of JSON, more than the ${room} bytes the guest's memory can still grow by`;
    }
    return answer.json;
  }

  #runHere(name: string, argumentsJson: string): HostAnswer {
    const loaded = modules.get(this.setup.moduleUrl!);
    if (!loaded || 'failure' in loaded) {
      const why = loaded && 'failure' in loaded ? loaded.failure : 'it was not imported';
      return { ok: false, message: `the functions module could not be loaded on the executor: ${why}` };
    }
    const fn = loaded.exports[name];
    if (typeof fn !== 'function') return { ok: false, message: `the functions module has no function ${name}` };
    const invoked = invokeHostFunction(name, fn as (...a: unknown[]) => unknown, argumentsJson);
    if ('answer' in invoked) return invoked.answer;
    // Nothing could ever settle it: this thread is blocked in the guest's call.
    Promise.resolve(invoked.pending).catch(() => undefined);
    return {
      ok: false,
      message: `${name} returned a promise: declare it \`async\` in the functions module, so that it runs on the caller's thread`,
    };
  }
}
