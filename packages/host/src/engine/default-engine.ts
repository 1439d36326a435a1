/** The process's one engine, so that every sandbox shares its executor threads. */
import { InvalidOptionsError } from '../errors.js';
import { Engine } from './engine.js';
import type { EngineOptions } from './engine-options.js';

let defaultEngine: Engine | undefined;

/**
 * Sets up the process's engine (executor threads). Call before the first sandbox is created;
 * afterwards it throws, since running sandboxes already use the engine there is.
 */
export function configureEngine(options: EngineOptions): void {
  if (defaultEngine)
    throw new InvalidOptionsError('the engine is already running; configure it before creating sandboxes');
  defaultEngine = new Engine(options);
}

/** @internal The process's engine, started with defaults on first use. */
export function engine(): Engine {
  defaultEngine ??= new Engine();
  return defaultEngine;
}
