/**
 * The guest's resource handle tables, one per resource type, as the canonical ABI defines them:
 * a handle is an index (from 1; 0 is never a handle) into the table of its type, naming a host
 * object and whether the guest owns it or borrows it. Freed indices are reused last-freed first.
 *
 * The tables are plain data owned by the binding rather than closures inside generated glue, so
 * they can be written out (`snapshot`) and rebuilt at the same indices over a fresh set of host
 * objects (`restoreTables`): that is what lets a sandbox move between threads and processes.
 */
import type { ResourceState } from '../wasi/state.js';
import { describeResource, recreateResource, type HostImports } from './resource-state.js';
import type { ResourceType } from './resource-type.js';
import { ComponentTrap } from './trap.js';
import { resourceTypeById } from './wasi/index.js';

export { resource, type ResourceType } from './resource-type.js';

/** Table indices stay below 2^28, like the spec's Table.MAX_LENGTH. */
const MAX_LENGTH = 2 ** 28 - 1;

interface Slot {
  rep: object;
  own: boolean;
}

export class HandleTable {
  /** Index 0 is reserved so that 0 can never name a live handle. */
  private readonly slots: (Slot | undefined)[] = [undefined];
  private readonly free: number[] = [];

  constructor(readonly type: ResourceType) {}

  add(rep: unknown, own: boolean): number {
    if (typeof rep !== 'object' || rep === null) {
      throw new TypeError(`the host passed ${String(rep)} where a ${this.type.name} was expected`);
    }
    const slot = { rep, own };
    const reused = this.free.pop();
    if (reused !== undefined) {
      this.slots[reused] = slot;
      return reused;
    }
    if (this.slots.length > MAX_LENGTH) throw new ComponentTrap(`too many ${this.type.name} handles`);
    this.slots.push(slot);
    return this.slots.length - 1;
  }

  private slot(index: number): Slot {
    const slot = this.slots[index];
    if (!slot) throw new ComponentTrap(`${index} is not a live ${this.type.name} handle`);
    return slot;
  }

  /** A borrow: the host object, with the handle left in place. */
  get(index: number): object {
    return this.slot(index).rep;
  }

  /** An own handle passed to the host: ownership moves out of the table. */
  removeOwn(index: number): object {
    const slot = this.slot(index);
    if (!slot.own) throw new ComponentTrap(`${this.type.name} handle ${index} is borrowed, not owned`);
    this.release(index);
    return slot.rep;
  }

  /** `[resource-drop]`: removes the handle; the caller runs the destructor if it was owned. */
  drop(index: number): Slot {
    const slot = this.slot(index);
    this.release(index);
    return slot;
  }

  private release(index: number): void {
    this.slots[index] = undefined;
    this.free.push(index);
  }

  get size(): number {
    return this.slots.length - 1 - this.free.length;
  }

  entries(): [number, Slot][] {
    return this.slots.flatMap((slot, index) => (slot ? [[index, slot] as [number, Slot]] : []));
  }

  snapshot(describe: (rep: object, type: ResourceType) => ResourceState): SerializedTable {
    return {
      resource: this.type.id,
      length: this.slots.length,
      free: [...this.free],
      handles: this.entries().map(([index, slot]) => ({ index, own: slot.own, state: describe(slot.rep, this.type) })),
    };
  }

  /** Rebuilds exactly the slots and free list of `data`, so later handle numbers match too. */
  static restore(type: ResourceType, data: SerializedTable, recreate: (state: ResourceState) => object): HandleTable {
    const table = new HandleTable(type);
    table.slots.length = data.length;
    table.slots.fill(undefined);
    for (const handle of data.handles) {
      if (handle.index < 1 || handle.index >= data.length) {
        throw new RangeError(`handle ${handle.index} is outside its ${type.name} table`);
      }
      table.slots[handle.index] = { rep: recreate(handle.state), own: handle.own };
    }
    table.free.push(...data.free);
    return table;
  }
}

export interface SerializedTable {
  /** The resource type's id, e.g. `wasi:io/streams/input-stream`. */
  resource: string;
  /** Slots including the reserved index 0 and freed ones. */
  length: number;
  /** Freed indices, in the order they will be reused from the end. */
  free: number[];
  handles: { index: number; own: boolean; state: ResourceState }[];
}

export interface SerializedTables {
  version: 1;
  tables: SerializedTable[];
}

/** All of one guest's tables, created on first use of each resource type. */
export class HandleTables {
  private readonly byId = new Map<string, HandleTable>();

  table(type: ResourceType): HandleTable {
    let table = this.byId.get(type.id);
    if (!table) {
      table = new HandleTable(type);
      this.byId.set(type.id, table);
    }
    return table;
  }

  /** Live handles of every type (for tests and diagnostics). */
  get size(): number {
    let total = 0;
    for (const table of this.byId.values()) total += table.size;
    return total;
  }

  snapshot(describe: (rep: object, type: ResourceType) => ResourceState): SerializedTables {
    return { version: 1, tables: [...this.byId.values()].map((table) => table.snapshot(describe)) };
  }

  static restore(
    data: SerializedTables,
    typeOf: (id: string) => ResourceType | undefined,
    recreate: (state: ResourceState, type: ResourceType) => object,
  ): HandleTables {
    if (data.version !== 1) throw new Error(`unknown handle table format version ${String(data.version)}`);
    const tables = new HandleTables();
    for (const table of data.tables) {
      const type = typeOf(table.resource);
      if (!type) throw new Error(`cannot restore handles of unknown resource type ${table.resource}`);
      tables.byId.set(
        type.id,
        HandleTable.restore(type, table, (state) => recreate(state, type)),
      );
    }
    return tables;
  }
}

/** The guest's tables as plain data; host objects are described with their serialisation hooks. */
export function snapshotTables(tables: HandleTables, host: HostImports): SerializedTables {
  return tables.snapshot((rep, type) => describeResource(rep, type, host));
}

/** Tables equal to the snapshotted ones, over host objects recreated from `host` (a fresh createWasiImports()). */
export function restoreTables(data: SerializedTables, host: HostImports): HandleTables {
  return HandleTables.restore(data, resourceTypeById, (state, type) => recreateResource(state, type, host));
}
