/**
 * A small DSL for declaring WIT interfaces in TypeScript: functions and resources with their
 * canonical ABI types, keyed by their WIT names (the import names core modules use).
 */
import { borrow, own, type ValType } from './canon.js';
import type { ResourceType } from './resource-type.js';

export interface FuncType {
  readonly params: readonly ValType[];
  readonly result: ValType | undefined;
}

/** Parameters in WIT order (names only document them: the ABI is positional). */
export function func(params: Record<string, ValType> = {}, result?: ValType): FuncType {
  return { params: Object.values(params), result };
}

export interface ResourceDef {
  readonly type: ResourceType;
  /** Method types include the implicit `self: borrow<R>` first parameter. */
  readonly methods: ReadonlyMap<string, FuncType>;
  readonly statics: ReadonlyMap<string, FuncType>;
  /** `[constructor]R`; named ctor because every object already has a `constructor`. */
  readonly ctor: FuncType | undefined;
}

export function resourceDef(
  type: ResourceType,
  methods: Record<string, FuncType> = {},
  extras: { statics?: Record<string, FuncType>; ctor?: Record<string, ValType> } = {},
): ResourceDef {
  const self = borrow(type);
  return {
    type,
    methods: new Map(
      Object.entries(methods).map(([name, f]) => [name, { params: [self, ...f.params], result: f.result }]),
    ),
    statics: new Map(Object.entries(extras.statics ?? {})),
    ctor: extras.ctor && func(extras.ctor, own(type)),
  };
}

export interface InterfaceDef {
  /** Without version: `wasi:io/streams`. */
  readonly name: string;
  readonly functions: ReadonlyMap<string, FuncType>;
  /** By WIT resource name. */
  readonly resources: ReadonlyMap<string, ResourceDef>;
}

export function defineInterface(
  name: string,
  members: { functions?: Record<string, FuncType>; resources?: ResourceDef[] },
): InterfaceDef {
  return {
    name,
    functions: new Map(Object.entries(members.functions ?? {})),
    resources: new Map((members.resources ?? []).map((r) => [r.type.name, r])),
  };
}
