// The JavaScript side of the `sandbox` world.
//
// Indirect eval evaluates code as a global script, so `var` and function declarations
// (and assignments to globalThis) persist from one call to the next, like Python's globals.
// `let`/`const`/`class` stay local to their own call, as in any separate <script>.
const runGlobal = globalThis.eval;

/** Formats a thrown value the way the contract wants: `Name: message`. */
function describeError(thrown) {
  if (thrown instanceof Error) {
    return thrown.message ? `${thrown.name}: ${thrown.message}` : thrown.name;
  }
  // SpiderMonkey reports exhausted memory as the bare string "out of memory"; give it the
  // name SpiderMonkey uses for its other resource errors ("too much recursion").
  if (thrown === 'out of memory') return 'InternalError: out of memory';
  // `throw "text"` or `throw 42`: report the value itself, prefixed so callers can tell.
  try {
    return `Uncaught: ${typeof thrown === 'string' ? thrown : JSON.stringify(thrown)}`;
  } catch {
    return `Uncaught: ${String(thrown)}`;
  }
}

function toJson(value) {
  const json = JSON.stringify(value);
  if (json === undefined) {
    const kind = value === undefined ? 'undefined' : typeof value;
    throw new TypeError(`Value of type ${kind} is not JSON serializable`);
  }
  return json;
}

function exec(statements) {
  try {
    runGlobal(statements);
  } catch (thrown) {
    throw describeError(thrown);
  }
}

function evaluate(expression) {
  try {
    // Parenthesised so that `{a: 1}` is an object literal, not a block.
    return toJson(runGlobal(`(${expression}\n)`));
  } catch (thrown) {
    throw describeError(thrown);
  }
}

export { evaluate as eval, exec };
