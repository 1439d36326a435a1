/**
 * Describes the host objects behind handles as plain data and recreates them over another
 * sandbox's host objects. The objects describe themselves (`describe()` hooks in ../wasi);
 * the standard streams are recognised by identity, since each sandbox has its own.
 */
import { IoError, Pollable } from '../wasi/io.js';
import type { ResourceState } from '../wasi/state.js';
import type { ResourceType } from './resource-type.js';

/** What createWasiImports() returns. */
export type HostImports = Record<string, Record<string, unknown>>;

const STDIO = [
  ['stdin', 'wasi:cli/stdin', 'getStdin'],
  ['stdout', 'wasi:cli/stdout', 'getStdout'],
  ['stderr', 'wasi:cli/stderr', 'getStderr'],
] as const;

function stdio(host: HostImports, role: (typeof STDIO)[number][0]): unknown {
  const [, iface, getter] = STDIO.find(([r]) => r === role)!;
  const get = host[iface]?.[getter];
  if (typeof get !== 'function') throw new Error(`the host has no ${iface}`);
  return (get as () => unknown)();
}

export function describeResource(rep: object, type: ResourceType, host: HostImports): ResourceState {
  for (const [role] of STDIO) {
    if (rep === stdio(host, role)) return { kind: 'stdio', role };
  }
  if (rep instanceof IoError) return { kind: 'error', message: rep.message };
  const described = (rep as { describe?: () => ResourceState | undefined }).describe?.();
  if (!described) throw new Error(`a ${type.name} handle (${rep.constructor.name}) cannot be serialised`);
  return described;
}

/** The filesystem's own restorer (filesystem-imports.ts): descriptors, file streams, listings. */
function restoreFilesystemResource(state: ResourceState, host: HostImports): object | undefined {
  const restore = host['wasi:filesystem/types']?.restoreResource;
  return typeof restore === 'function' ? (restore as (s: ResourceState) => object | undefined)(state) : undefined;
}

export function recreateResource(state: ResourceState, type: ResourceType, host: HostImports): object {
  let rep: unknown;
  switch (state.kind) {
    case 'stdio':
      rep = stdio(host, state.role);
      break;
    case 'pollable':
      rep = Pollable.restore(state);
      break;
    case 'error':
      rep = new IoError(state.message);
      break;
    default:
      rep = restoreFilesystemResource(state, host);
  }
  if (typeof rep !== 'object' || rep === null) throw new Error(`cannot recreate a ${type.name} from ${state.kind}`);
  return rep;
}
