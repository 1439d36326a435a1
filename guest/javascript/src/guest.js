// The JavaScript side of the `sandbox` world.
//
// Indirect eval evaluates code as a global script, so `var` and function declarations
// (and assignments to globalThis) persist from one call to the next, like Python's globals.
// `let`/`const`/`class` stay local to their own call, as in any separate <script>.
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

function toJson(value) {
  const json = stringify(value);
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

function exec(statements) {
  guarded(() => {
    runGlobal(withoutDynamicImport(statements));
  });
}

function evaluate(expression) {
  // Parenthesised so that `{a: 1}` is an object literal, not a block.
  return guarded(() => toJson(runGlobal(`(${withoutDynamicImport(expression)}\n)`)));
}

export { evaluate as eval, exec };
