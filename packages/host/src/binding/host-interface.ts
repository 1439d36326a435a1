/**
 * The `host` interface of world `sandbox-extended` (wit/sandbox-extended.wit): how a guest
 * lists and calls the functions its host offers. The binding only moves values; what a call
 * does is the `HostFunctionsImport` the executor gives each instance.
 */
import { HOST_INTERFACE } from '@component-sandbox/wit';
import { list, result, string, u32, type CallContext } from './canon.js';
import { lowerHostFunction, type CoreFunction } from './functions.js';
import { UnsupportedImportError } from './wasi-imports.js';
import { defineInterface, func } from './wit.js';

export const hostInterface = defineInterface(HOST_INTERFACE, {
  functions: {
    'functions-version': func({}, u32),
    'function-names': func({}, list(string)),
    call: func({ name: string, arguments: string }, result(string, string)),
  },
});

/** The host side of the interface, for one instance. */
export interface HostFunctionsImport {
  /** Names the offered set: 0 for none. */
  functionsVersion(): number;
  functionNames(): readonly string[];
  /** The JSON of the result; throws the error message (a string) when the call failed. */
  call(name: string, argumentsJson: string): string;
}

/** A host without functions: the set is empty, and every call is refused. */
export const NO_HOST_FUNCTIONS: HostFunctionsImport = {
  functionsVersion: () => 0,
  functionNames: () => [],
  call: (name) => {
    throw `this sandbox has no host function named ${JSON.stringify(name)}`;
  },
};

export function isHostInterfaceImport(module: string): boolean {
  return module.replace(/@[^@/]*$/, '') === HOST_INTERFACE;
}

/** The core function for `host`.`name`. */
export function hostInterfaceImport(impl: HostFunctionsImport, name: string, cx: CallContext): CoreFunction {
  const ft = hostInterface.functions.get(name);
  if (!ft)
    throw new UnsupportedImportError(`the guest imports ${HOST_INTERFACE}#${name}, which this host does not know`);
  const call =
    name === 'functions-version'
      ? () => impl.functionsVersion()
      : name === 'function-names'
        ? () => impl.functionNames()
        : (args: unknown[]) => impl.call(args[0] as string, args[1] as string);
  return lowerHostFunction(ft, call, cx);
}
