/**
 * The sandboxes a replica holds for sessions that live in the store ("hot copies"), each with
 * the version of the session it holds. A hot copy is used only while its version is the
 * store's newest; the least recently used idle copies are closed past `max` (their sessions stay
 * in the store and are restored on their next call).
 */
import type { Sandbox } from '@component-sandbox/host';

export interface HotCopy {
  readonly sandbox: Sandbox;
  version: number;
  /** A call holds it (never evicted then). */
  inUse: boolean;
  /** The write of its last call, when it is still on its way (write-when-idle mode). */
  flushing?: Promise<void> | undefined;
}

export class HotSessions {
  /** In least recently used order: the first entries are evicted first. */
  readonly #copies = new Map<string, HotCopy>();

  constructor(
    private readonly max: number,
    private readonly close: (sandbox: Sandbox) => Promise<void>,
  ) {}

  get size(): number {
    return this.#copies.size;
  }

  /** Hot copies whose sandbox the host has parked (idle: only its snapshot kept). */
  get parked(): number {
    let count = 0;
    for (const copy of this.#copies.values()) if (copy.sandbox.parked) count += 1;
    return count;
  }

  get(id: string): HotCopy | undefined {
    return this.#copies.get(id);
  }

  /** Marks `id` as the most recently used. */
  touch(id: string): void {
    const copy = this.#copies.get(id);
    if (copy) {
      this.#copies.delete(id);
      this.#copies.set(id, copy);
    }
  }

  /** Holds `sandbox` as the hot copy of `id` at `version` (closing any older copy), then evicts. */
  async put(id: string, sandbox: Sandbox, version: number, inUse: boolean): Promise<HotCopy> {
    const old = this.#copies.get(id);
    this.#copies.delete(id);
    const copy: HotCopy = { sandbox, version, inUse };
    this.#copies.set(id, copy);
    if (old && old.sandbox !== sandbox) await this.close(old.sandbox);
    await this.evict();
    return copy;
  }

  /** Closes the hot copy of `id` (it is stale, or the session is gone). */
  async drop(id: string): Promise<void> {
    const copy = this.#copies.get(id);
    if (!copy) return;
    this.#copies.delete(id);
    await this.close(copy.sandbox);
  }

  /** Closes idle copies, least recently used first, until at most `max` are held. */
  async evict(): Promise<void> {
    const victims: [string, HotCopy][] = [];
    let over = this.#copies.size - this.max;
    for (const entry of this.#copies) {
      if (over <= 0) break;
      if (entry[1].inUse || entry[1].flushing) continue;
      victims.push(entry);
      over -= 1;
    }
    for (const [id] of victims) this.#copies.delete(id);
    await Promise.allSettled(victims.map(([, copy]) => this.close(copy.sandbox)));
  }

  /** Closes every copy (shutdown). */
  async closeAll(): Promise<void> {
    const all = [...this.#copies.values()];
    this.#copies.clear();
    await Promise.allSettled(all.map((copy) => this.close(copy.sandbox)));
  }
}
