/**
 * Turns one core import of a WASI function (`wasi:io/streams@0.2.12` / `[method]input-stream.read`)
 * into a core function that calls the host's implementation, shaped as createWasiImports()
 * shapes it: resources are classes with camelCase methods, functions are camelCase properties.
 */
import { SUPPORTED_INTERFACES, interfaceName } from '../wasi/index.js';
import { camelCase, type CallContext } from './canon.js';
import { lowerHostFunction, type CoreFunction } from './functions.js';
import type { HostImports } from './resource-state.js';
import { WASI_INTERFACES } from './wasi/index.js';
import type { FuncType, InterfaceDef, ResourceDef } from './wit.js';

/** An import the guest names that this host cannot satisfy; fails instantiation. */
export class UnsupportedImportError extends Error {
  override name = 'UnsupportedImportError';
}

/** `[method]input-stream.read` -> kind, resource, function. */
function parseName(name: string): { kind: string; resource?: string; fn?: string } {
  const match = /^\[(method|static|constructor|resource-drop)\]([^.]+)(?:\.(.+))?$/.exec(name);
  if (!match) return { kind: 'function', fn: name };
  return { kind: match[1]!, resource: match[2]!, fn: match[3] };
}

function hostFunction(owner: unknown, key: string, what: string): (...args: unknown[]) => unknown {
  const fn = (owner as Record<string, unknown> | undefined)?.[key];
  if (typeof fn !== 'function')
    throw new UnsupportedImportError(`the guest imports ${what}, which this host does not provide`);
  return fn as (...args: unknown[]) => unknown;
}

/** Whether `resource`'s host class (if the host exposes it) has the method. */
function checkMethod(hostIface: Record<string, unknown>, def: ResourceDef, method: string, what: string): void {
  const cls = hostIface[def.type.className] as { prototype?: Record<string, unknown> } | undefined;
  if (cls?.prototype && typeof cls.prototype[method] !== 'function') {
    throw new UnsupportedImportError(`the guest imports ${what}, which this host does not provide`);
  }
}

function typed<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new UnsupportedImportError(`the guest imports ${what}, which this binding does not know`);
  return value;
}

function resolve(
  def: InterfaceDef,
  hostIface: Record<string, unknown>,
  name: string,
  cx: CallContext,
  what: string,
): CoreFunction {
  const { kind, resource, fn } = parseName(name);
  if (kind === 'function') {
    const ft = typed(def.functions.get(fn!), what);
    const impl = hostFunction(hostIface, camelCase(fn!), what);
    return lowerHostFunction(ft, (args) => impl.apply(hostIface, args), cx);
  }
  const rdef = typed(def.resources.get(resource!), what);
  switch (kind) {
    case 'resource-drop': {
      // Dropping an own handle runs the host object's destructor, if it has one.
      return (handle) => {
        const slot = cx.tables.table(rdef.type).drop(Number(handle) >>> 0);
        if (slot.own) (slot.rep as Partial<Disposable>)[Symbol.dispose]?.();
        return undefined;
      };
    }
    case 'method': {
      const ft: FuncType = typed(rdef.methods.get(fn!), what);
      const method = camelCase(fn!);
      checkMethod(hostIface, rdef, method, what);
      return lowerHostFunction(
        ft,
        (args) => {
          const self = args[0] as Record<string, (...a: unknown[]) => unknown>;
          return self[method]!(...args.slice(1));
        },
        cx,
      );
    }
    case 'static': {
      const ft = typed(rdef.statics.get(fn!), what);
      const impl = hostFunction(hostIface[rdef.type.className], camelCase(fn!), what);
      return lowerHostFunction(ft, (args) => impl(...args), cx);
    }
    default: {
      const ft = typed(rdef.ctor, what);
      const cls = hostIface[rdef.type.className];
      if (typeof cls !== 'function')
        throw new UnsupportedImportError(`the guest imports ${what}, which this host does not provide`);
      return lowerHostFunction(ft, (args) => new (cls as new (...a: unknown[]) => object)(...args), cx);
    }
  }
}

/**
 * The core function for `module`.`name`, or an UnsupportedImportError naming the interface
 * when the host does not implement it (deny by default: the guest is refused at load time).
 */
export function wasiImport(host: HostImports, module: string, name: string, cx: CallContext): CoreFunction {
  const iface = interfaceName(module);
  const hostIface = host[iface];
  if (!SUPPORTED_INTERFACES.has(iface) || !hostIface) {
    throw new UnsupportedImportError(`the guest imports ${iface}, which this host does not provide`);
  }
  const def = typed(WASI_INTERFACES.get(iface), `${iface}`);
  return resolve(def, hostIface, name, cx, `${iface}#${name}`);
}

export function isWasiImport(module: string): boolean {
  return module.startsWith('wasi:');
}
