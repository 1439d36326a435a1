/**
 * Function calls across the boundary (spec: `canon lower` for the host functions a guest
 * imports, `canon lift` for the functions it exports), synchronous only.
 */
import {
  FlatValues,
  MAX_FLAT_PARAMS,
  MAX_FLAT_RESULTS,
  isResultType,
  tuple,
  type CallContext,
  type CoreValue,
  type ValType,
} from './canon.js';
import { ComponentTrap } from './trap.js';
import type { FuncType } from './wit.js';

export type CoreFunction = (...args: CoreValue[]) => CoreValue | undefined;

function checkPointer(cx: CallContext, ptr: number, type: ValType, what: string): void {
  if (ptr % type.align !== 0) throw new ComponentTrap(`${what} ${ptr} is not aligned to ${type.align}`);
  if (ptr + type.size > cx.memory.memory.buffer.byteLength) throw new ComponentTrap(`${what} ${ptr} is out of bounds`);
}

interface Signature {
  /** Parameters travel through memory (more than MAX_FLAT_PARAMS flat values). */
  paramsInMemory: boolean;
  paramTuple: ValType;
  /** The result travels through memory (more than MAX_FLAT_RESULTS flat values). */
  resultInMemory: boolean;
}

function signatureOf(ft: FuncType): Signature {
  const paramTuple = tuple(...ft.params);
  return {
    paramsInMemory: paramTuple.flat.length > MAX_FLAT_PARAMS,
    paramTuple,
    resultInMemory: (ft.result?.flat.length ?? 0) > MAX_FLAT_RESULTS,
  };
}

/**
 * Calls the host implementation and returns the value to lower. For a `result` return type the
 * host follows jco's convention: it returns the ok payload or throws the error payload; a thrown
 * value that is not a valid error (a host bug, GuestExit) propagates and ends the guest's call.
 */
function callHost(ft: FuncType, impl: (args: unknown[]) => unknown, args: unknown[]): unknown {
  const resultType = ft.result;
  if (!isResultType(resultType)) return impl(args);
  let val: unknown;
  try {
    val = impl(args);
  } catch (error) {
    if (resultType.err?.accepts(error)) return { tag: 'err', val: error };
    throw error;
  }
  return { tag: 'ok', val };
}

/**
 * The core function a module imports for `ft`: lifts its arguments from core values (or from
 * memory), calls `impl` and lowers the result (returned, or stored at the trailing out-pointer).
 */
export function lowerHostFunction(ft: FuncType, impl: (args: unknown[]) => unknown, cx: CallContext): CoreFunction {
  const { paramsInMemory, paramTuple, resultInMemory } = signatureOf(ft);
  const params = ft.params;
  const resultType = ft.result;
  return (...core: CoreValue[]) => {
    let args: unknown[];
    if (paramsInMemory) {
      const ptr = Number(core[0]) >>> 0;
      checkPointer(cx, ptr, paramTuple, 'parameter pointer');
      args = paramTuple.load(cx, ptr) as unknown[];
    } else {
      const from = new FlatValues(core);
      args = new Array<unknown>(params.length);
      for (let i = 0; i < params.length; i++) args[i] = params[i]!.lift(cx, from);
    }
    const value = callHost(ft, impl, args);
    if (!resultType) return undefined;
    if (resultInMemory) {
      const ptr = Number(core[core.length - 1]) >>> 0;
      checkPointer(cx, ptr, resultType, 'result pointer');
      resultType.store(cx, ptr, value);
      return undefined;
    }
    const out: CoreValue[] = [];
    resultType.lower(cx, value, out);
    return out[0];
  };
}

/**
 * A JS function calling a guest export of type `ft`: lowers the arguments into the guest,
 * calls `core`, lifts the result (a `result` stays `{tag, val}`), then lets the guest free
 * what it returned (`postReturn`, the export's `cabi_post_*`).
 */
export function liftGuestFunction(
  ft: FuncType,
  core: CoreFunction,
  postReturn: CoreFunction | undefined,
  cx: CallContext,
): (...args: unknown[]) => unknown {
  const { paramsInMemory, paramTuple, resultInMemory } = signatureOf(ft);
  const resultType = ft.result;
  return (...args: unknown[]) => {
    const coreArgs: CoreValue[] = [];
    if (paramsInMemory) {
      const ptr = cx.realloc(0, 0, paramTuple.align, paramTuple.size) >>> 0;
      checkPointer(cx, ptr, paramTuple, 'realloc result');
      paramTuple.store(cx, ptr, args);
      coreArgs.push(ptr);
    } else {
      for (let i = 0; i < ft.params.length; i++) ft.params[i]!.lower(cx, args[i], coreArgs);
    }
    const ret = core(...coreArgs);
    let value: unknown;
    if (resultType) {
      if (resultInMemory) {
        const ptr = Number(ret) >>> 0;
        checkPointer(cx, ptr, resultType, 'result pointer');
        value = resultType.load(cx, ptr);
      } else {
        value = resultType.lift(cx, new FlatValues([ret!]));
      }
    }
    if (postReturn) {
      if (ret === undefined) postReturn();
      else postReturn(ret);
    }
    return value;
  };
}
