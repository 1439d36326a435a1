/**
 * What the host and its executors say to each other about host functions: which functions a
 * sandbox has and where each runs (given with the sandbox's setup), and one call crossing from
 * an executor to the caller's thread (through the call slot, see executor.ts).
 */

/** A sandbox's functions, as an executor needs them. */
export interface FunctionsSetup {
  /** Every name the guest may call, sorted. */
  names: string[];
  /** Names the set (a u32; 0 for no functions): the guest refetches the names when it changes. */
  version: number;
  /** The `functionsModule`, which the executor imports itself, if there is one. */
  moduleUrl?: string;
  /** Names of that module's synchronous functions: they run on the executor, without a hop. */
  local: string[];
  /** Host calls one guest call may make (`maxHostCalls`). */
  maxCalls: number;
}

export const NO_FUNCTIONS: FunctionsSetup = { names: [], version: 0, local: [], maxCalls: 0 };

/** The outcome of one host call: the result's JSON, or the error's message. */
export type HostAnswer = { ok: true; json: string } | { ok: false; message: string };

/** Answers the host calls of a sandbox that go to the caller's thread. */
export type HostCallAnswerer = (name: string, argumentsJson: string) => HostAnswer | Promise<HostAnswer>;

/** A host call as the call slot carries it: names never contain a newline. */
export function encodeHostCall(name: string, argumentsJson: string): string {
  return `${name}\n${argumentsJson}`;
}

export function decodeHostCall(text: string): { name: string; argumentsJson: string } {
  const cut = text.indexOf('\n');
  return { name: text.slice(0, cut), argumentsJson: text.slice(cut + 1) };
}

/** What a thrown value says, and nothing else: never a stack, never a throwing description. */
export function messageOf(thrown: unknown): string {
  try {
    if (thrown instanceof Error) return thrown.message || thrown.name;
    if (typeof thrown === 'string') return thrown;
    return String(thrown);
  } catch {
    return 'the host function failed with a value that cannot be described';
  }
}
