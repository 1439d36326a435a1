// The JavaScript side of world `sandbox-extended` (world `sandbox`, plus host functions and cells).
//
// Indirect eval evaluates code as a global script, so `var` and function declarations
// (and assignments to globalThis) persist from one call to the next, like Python's globals.
// `let`/`const`/`class` stay local to their own call, as in any separate <script>.
import { call as hostCall, functionNames, functionsVersion } from 'component-sandbox:sandbox/host@0.1.0';

const runGlobal = globalThis.eval;

// Captured before any guest code runs: code may replace JSON.stringify (or break it), and the
// value's JSON must still come from the real one, or the host would receive something else.
const stringify = JSON.stringify;
const ownErrorName = Object.getOwnPropertyDescriptor;

/** The sandbox has no network, no module loader and no event loop after a call returns. */
function unavailable(name) {
  return () => {
    throw new TypeError(`${name} is not available in the sandbox`);
  };
}

// fetch traps in the engine (no HTTP import is granted), and timer callbacks would never run
// (nothing drives the event loop between calls): both fail loudly instead. Microtasks
// (promise reactions, queueMicrotask) do run, before the call returns.
for (const name of ['fetch', 'setTimeout', 'setInterval']) {
  Object.defineProperty(globalThis, name, {
    value: unavailable(name),
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

/** Dynamic `import(...)` is syntax; a call to this global stands in for it (see below). */
const IMPORT_STAND_IN = '__componentSandboxImport__';
Object.defineProperty(globalThis, IMPORT_STAND_IN, { value: unavailable('import()') });

const WORD = /[\w$\u0080-\uffff]/;
const REGEX_AFTER_WORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/**
 * Source with every dynamic `import(` call replaced by a call to the stand-in, which throws a
 * TypeError where the import would have run (so try/catch and unreached code behave as usual).
 * The engine's own module loader aborts the whole component on `import()`, so the call must
 * never reach it. A small lexer skips strings, template text, comments and regular expressions;
 * `x.import(...)` and methods named `import` are left alone.
 */
function withoutDynamicImport(code) {
  if (!code.includes('import')) return code;
  let out = '';
  let i = 0;
  let copied = 0;
  let last = ''; // last significant token: a punctuator character or a word
  const templates = []; // brace depth at each `${` we are inside
  let braces = 0;

  const skipString = (quote) => {
    for (i += 1; i < code.length && code[i] !== quote; i += 1) if (code[i] === '\\') i += 1;
    i += 1;
  };
  const skipTemplateText = () => {
    // From just after ` or }, to just after the closing ` or the next ${.
    for (; i < code.length; i += 1) {
      if (code[i] === '\\') i += 1;
      else if (code[i] === '`') return void (i += 1);
      else if (code[i] === '$' && code[i + 1] === '{') {
        templates.push(braces);
        braces += 1;
        return void (i += 2);
      }
    }
  };
  const skipSpace = (from) => {
    let j = from;
    for (;;) {
      if (/\s/.test(code[j] ?? '')) j += 1;
      else if (code.startsWith('//', j)) j = code.indexOf('\n', j) === -1 ? code.length : code.indexOf('\n', j);
      else if (code.startsWith('/*', j)) j = code.indexOf('*/', j) === -1 ? code.length : code.indexOf('*/', j) + 2;
      else return j;
    }
  };
  /** Index just past the parenthesis that closes the one at `open`, strings and comments skipped. */
  const closingParen = (open) => {
    let depth = 0;
    for (let j = open; j < code.length; j += 1) {
      const c = code[j];
      if (c === '"' || c === "'" || c === '`') {
        for (j += 1; j < code.length && code[j] !== c; j += 1) if (code[j] === '\\') j += 1;
      } else if (c === '/' && (code[j + 1] === '/' || code[j + 1] === '*')) {
        j = skipSpace(j) - 1;
      } else if (c === '(') depth += 1;
      else if (c === ')' && --depth === 0) return j + 1;
    }
    return code.length;
  };

  while (i < code.length) {
    const c = code[i];
    if (c === '"' || c === "'") {
      skipString(c);
      last = 'x';
    } else if (c === '`') {
      i += 1;
      skipTemplateText();
      last = 'x';
    } else if (c === '/' && (code[i + 1] === '/' || code[i + 1] === '*')) {
      i = skipSpace(i);
    } else if (
      c === '/' &&
      (REGEX_AFTER_WORD.has(last) || !(last === ')' || last === ']' || WORD.test(last.charAt(0))))
    ) {
      // A regular expression literal: up to the unescaped `/` outside a character class.
      let inClass = false;
      for (i += 1; i < code.length && (inClass || code[i] !== '/') && code[i] !== '\n'; i += 1) {
        if (code[i] === '\\') i += 1;
        else if (code[i] === '[') inClass = true;
        else if (code[i] === ']') inClass = false;
      }
      i += 1;
      last = 'x';
    } else if (WORD.test(c)) {
      const start = i;
      while (i < code.length && WORD.test(code[i])) i += 1;
      const word = code.slice(start, i);
      if (word === 'import' && last !== '.') {
        const open = skipSpace(i);
        // `import(...) {` is a method definition; `import(...)` anywhere else is the call.
        if (code[open] === '(' && code[skipSpace(closingParen(open))] !== '{') {
          out += code.slice(copied, start) + IMPORT_STAND_IN;
          copied = i;
        }
      }
      last = word;
    } else {
      if (c === '{') braces += 1;
      else if (c === '}') {
        braces -= 1;
        if (templates.length > 0 && templates.at(-1) === braces) {
          templates.pop();
          i += 1;
          skipTemplateText();
          last = 'x';
          continue;
        }
      }
      if (!/\s/.test(c)) last = c === '?' && code[i + 1] === '.' ? '.' : c;
      i += c === '?' && code[i + 1] === '.' ? 2 : 1;
    }
  }
  return out + code.slice(copied);
}

/** Formats a thrown value the way the contract wants: `Name: message`. */
function describeError(thrown) {
  if (thrown instanceof Error) {
    // Read without running guest getters that could throw again.
    const name = ownErrorName(thrown, 'name')?.value ?? thrown.name;
    return thrown.message ? `${name}: ${thrown.message}` : String(name);
  }
  // SpiderMonkey reports exhausted memory as the bare string "out of memory"; give it the
  // name SpiderMonkey uses for its other resource errors ("too much recursion").
  if (thrown === 'out of memory') return 'InternalError: out of memory';
  // `throw "text"` or `throw 42`: report the value itself, prefixed so callers can tell.
  try {
    return `Uncaught: ${typeof thrown === 'string' ? thrown : stringify(thrown)}`;
  } catch {
    return `Uncaught: ${String(thrown)}`;
  }
}

// SpiderMonkey's error for exhausted native stack ("too much recursion"); not a standard global.
const { InternalError: EngineInternalError } = globalThis;
const isArray = Array.isArray;
const ownKeys = Object.keys;
const callFunction = Function.prototype.call.bind(Function.prototype.call);
const { Number: NumberBox, String: StringBox, Boolean: BooleanBox, BigInt: BigIntBox } = globalThis;
const valueOf = {
  number: Number.prototype.valueOf,
  string: String.prototype.toString,
  boolean: Boolean.prototype.valueOf,
  bigint: BigInt.prototype.valueOf,
};

/** JSON.stringify's own steps for one property: toJSON, then unboxing of primitive wrappers. */
function jsonValue(holder, key) {
  let value = holder[key];
  if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
    const toJSON = value.toJSON;
    if (typeof toJSON === 'function') value = callFunction(toJSON, value, key);
  }
  if (value instanceof NumberBox) value = +value;
  else if (value instanceof StringBox) value = `${value}`;
  else if (value instanceof BooleanBox) value = callFunction(valueOf.boolean, value);
  else if (value instanceof BigIntBox) value = callFunction(valueOf.bigint, value);
  return value;
}

/** Values JSON has no text for: left out of objects, `null` in arrays. */
const hasNoJson = (value) => value === undefined || typeof value === 'function' || typeof value === 'symbol';

/**
 * The text JSON.stringify gives, with a heap stack instead of the engine's native one: the
 * engine's serialiser gives up a few hundred levels deep, and a value built in a loop can be
 * nested far deeper. Leaves are still written by the engine's own serialiser.
 */
function stringifyDeep(value) {
  const top = jsonValue({ '': value }, '');
  if (hasNoJson(top)) return undefined;
  const parts = [];
  const open = new Set();
  // Last first. text: emit; leave: a container is done; value: serialise; element/member: a
  // property of a container, read (toJSON and all) only when it is reached, as the engine does.
  const work = [{ kind: 'value', value: top }];
  while (work.length > 0) {
    const item = work.pop();
    switch (item.kind) {
      case 'text':
        parts.push(item.text);
        continue;
      case 'leave':
        open.delete(item.value);
        continue;
      case 'element': {
        const element = jsonValue(item.holder, item.key);
        if (hasNoJson(element)) parts.push('null');
        else work.push({ kind: 'value', value: element });
        continue;
      }
      case 'member': {
        const member = jsonValue(item.holder, item.key);
        if (hasNoJson(member)) continue;
        parts.push(`${item.frame.count++ > 0 ? ',' : ''}${stringify(item.key)}:`);
        work.push({ kind: 'value', value: member });
        continue;
      }
    }
    const current = item.value;
    if (typeof current !== 'object' || current === null) {
      parts.push(stringify(current));
      continue;
    }
    if (open.has(current)) throw new TypeError('cyclic object value');
    open.add(current);
    work.push({ kind: 'leave', value: current });
    if (isArray(current)) {
      parts.push('[');
      work.push({ kind: 'text', text: ']' });
      for (let index = current.length - 1; index >= 0; index -= 1) {
        work.push({ kind: 'element', holder: current, key: String(index) });
        if (index > 0) work.push({ kind: 'text', text: ',' });
      }
    } else {
      parts.push('{');
      work.push({ kind: 'text', text: '}' });
      const frame = { count: 0 };
      const keys = ownKeys(current);
      for (let index = keys.length - 1; index >= 0; index -= 1) {
        work.push({ kind: 'member', holder: current, key: keys[index], frame });
      }
    }
  }
  return parts.join('');
}

function toJson(value) {
  let json;
  try {
    json = stringify(value);
  } catch (error) {
    if (!(error instanceof EngineInternalError)) throw error;
    json = stringifyDeep(value);
  }
  if (typeof json !== 'string') {
    const kind = value === undefined ? 'undefined' : typeof value;
    throw new TypeError(`Value of type ${kind} is not JSON serializable`);
  }
  return json;
}

/** Runs `action`; any failure, even one whose description fails, becomes the error string. */
function guarded(action) {
  try {
    return action();
  } catch (thrown) {
    let message;
    try {
      message = describeError(thrown);
    } catch {
      message = 'Error: the guest threw a value that cannot be described';
    }
    throw typeof message === 'string' ? message : 'Error';
  }
}

/**
 * Code can build code at run time (eval, the Function constructors); what those compile goes
 * through the same rewrite, so no string reaches the engine's module loader. Calls of `eval`
 * from guest code are indirect evals (global scope), as `exec` itself is.
 */
function guardCodeEntryPoints() {
  const safeEval = (code) => runGlobal(typeof code === 'string' ? withoutDynamicImport(code) : code);
  Object.defineProperty(globalThis, 'eval', { value: safeEval, writable: true, configurable: true, enumerable: false });
  const constructors = [
    Function,
    Object.getPrototypeOf(async function () {}).constructor,
    Object.getPrototypeOf(function* () {}).constructor,
    Object.getPrototypeOf(async function* () {}).constructor,
  ];
  for (const original of constructors) {
    const guardedConstructor = function (...parts) {
      return Reflect.construct(
        original,
        parts.map((part) => withoutDynamicImport(String(part))),
        new.target ?? original,
      );
    };
    Object.defineProperty(guardedConstructor, 'prototype', { value: original.prototype });
    Object.defineProperty(guardedConstructor, 'name', { value: original.name });
    const slot = { value: guardedConstructor, writable: true, configurable: true, enumerable: false };
    Object.defineProperty(original.prototype, 'constructor', slot);
    if (original === Function) Object.defineProperty(globalThis, 'Function', slot);
  }
}
guardCodeEntryPoints();

// ---- host functions (wit/sandbox-extended.wit, interface `host`) ------------------------------
//
// Each function the host offers is a global and a property of the global `host`; calling one
// blocks until the host answers. Values cross as JSON; bytes (a Uint8Array, or any typed array's
// bytes) as {"$bytes": "<base64>"}, and such an object comes back as a Uint8Array. A host
// function that fails throws a HostError with the host's message.

const parseJson = JSON.parse;
const { isView } = ArrayBuffer;
const { fromCharCode } = String;
const { isFinite: finite } = Number;
const defineProperty = Object.defineProperty;
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function toBase64(bytes) {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += BASE64[n >> 18] + BASE64[(n >> 12) & 63] + BASE64[(n >> 6) & 63] + BASE64[n & 63];
  }
  if (i < bytes.length) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += BASE64[n >> 18] + BASE64[(n >> 12) & 63] + (i + 1 < bytes.length ? BASE64[(n >> 6) & 63] : '=') + '=';
  }
  return out;
}

function fromBase64(text) {
  const clean = text.replace(/=+$/, '');
  const bytes = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (let i = 0; i < clean.length; i += 1) {
    const digit = BASE64.indexOf(clean[i]);
    if (digit < 0) throw new TypeError(`invalid base64 from the host: ${fromCharCode(clean.charCodeAt(i))}`);
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (value >> bits) & 255;
    }
  }
  return bytes;
}

function replaceForHost(key, value) {
  const original = this[key];
  if (isView(original)) {
    return { $bytes: toBase64(new Uint8Array(original.buffer, original.byteOffset, original.byteLength)) };
  }
  if (original instanceof ArrayBuffer) return { $bytes: toBase64(new Uint8Array(original)) };
  if (typeof value === 'number' && !finite(value)) throw new TypeError(`${value} has no JSON form`);
  return value;
}

function reviveFromHost(_key, value) {
  if (typeof value === 'object' && value !== null && !isArray(value)) {
    const keys = ownKeys(value);
    if (keys.length === 1 && keys[0] === '$bytes' && typeof value.$bytes === 'string') return fromBase64(value.$bytes);
  }
  return value;
}

class HostError extends Error {
  constructor(message) {
    super(message);
    defineProperty(this, 'name', { value: 'HostError', writable: true, configurable: true, enumerable: false });
  }
}

/** What componentize-js throws for an `err` result: the payload is the host's message. */
function hostMessage(thrown) {
  if (typeof thrown === 'string') return thrown;
  const payload = thrown !== null && typeof thrown === 'object' ? thrown.payload : undefined;
  return typeof payload === 'string' ? payload : String(thrown);
}

/** True when every argument is a plain JSON scalar: no replacer needed (it is several times slower). */
function scalarsOnly(args) {
  for (const value of args) {
    const kind = typeof value;
    if (value !== null && kind !== 'string' && kind !== 'boolean' && !(kind === 'number' && finite(value))) {
      return false;
    }
  }
  return true;
}

function callHostFunction(name, args) {
  const argumentsJson = scalarsOnly(args) ? stringify(args) : stringify(args, replaceForHost);
  let resultJson;
  try {
    resultJson = hostCall(name, argumentsJson);
  } catch (thrown) {
    throw new HostError(hostMessage(thrown));
  }
  // Likewise the reviver: only for results that may hold bytes.
  return resultJson.includes('"$bytes"') ? parseJson(resultJson, reviveFromHost) : parseJson(resultJson);
}

const hostObject = { HostError };
defineProperty(globalThis, 'host', { value: hostObject, writable: true, configurable: true, enumerable: false });
defineProperty(globalThis, 'HostError', { value: HostError, writable: true, configurable: true, enumerable: false });

let knownFunctions = 0;
const installed = new Map();

/** Installs the host's functions when the set differs from the one this guest was last given. */
function syncHostFunctions() {
  const version = functionsVersion();
  if (version === knownFunctions) return;
  knownFunctions = version;
  for (const [name, stub] of installed) {
    if (globalThis[name] === stub) delete globalThis[name];
    if (hostObject[name] === stub) delete hostObject[name];
  }
  installed.clear();
  for (const name of functionNames()) {
    const stub = (...args) => callHostFunction(name, args);
    defineProperty(stub, 'name', { value: name });
    installed.set(name, stub);
    hostObject[name] = stub;
    defineProperty(globalThis, name, { value: stub, writable: true, configurable: true, enumerable: false });
  }
}

function exec(statements) {
  guarded(() => {
    syncHostFunctions();
    runGlobal(withoutDynamicImport(statements));
  });
}

function evaluate(expression) {
  // Parenthesised so that `{a: 1}` is an object literal, not a block.
  return guarded(() => {
    syncHostFunctions();
    return toJson(runGlobal(`(${withoutDynamicImport(expression)}\n)`));
  });
}

/**
 * A cell: statements whose completion value (the value of the last expression statement that
 * ran, as `eval` gives it) is the result; none when that is undefined.
 */
function run(code) {
  return guarded(() => {
    syncHostFunctions();
    const value = runGlobal(withoutDynamicImport(code));
    return value === undefined ? undefined : toJson(value);
  });
}

export { evaluate as eval, exec, run };
