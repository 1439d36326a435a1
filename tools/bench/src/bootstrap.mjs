// Entry of every child process the bench starts: `node src/bootstrap.mjs <module.ts>`.
// TypeScript is loaded through tsx's API and `gc` exposed through V8's API rather than through
// Node flags, so the child's process.execArgv stays empty: sandbox workers that inherit it (as
// Node's workers do by default) start exactly as they would in any other host process.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

setFlagsFromString('--expose-gc');
globalThis.gc = runInNewContext('gc');
register();
await import(pathToFileURL(process.argv[2]).href);
