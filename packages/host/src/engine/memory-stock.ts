/**
 * Fresh guest memories made ahead of need by a thread of their own (memory-maker-worker.ts),
 * a few per guest and memory limit, so that creating, restoring or unparking a sandbox takes a
 * memory that already holds the base image instead of writing it (several ms of page faults on
 * the caller's event loop). When the stock is empty the memory is made on the spot, as before.
 */
import { Worker } from 'node:worker_threads';
import { createGuestMemory, type EngineGuest } from './engine-guest.js';
import type { MakerReply, MakerRequest } from './memory-maker-protocol.js';

/** Memories kept ready per guest and limit: each holds the base image (~7 MB for Python). */
const STOCK_SIZE = 2;
/** Guest and limit pairs stocked at once; the least recently used beyond it is dropped. */
const MAX_STOCKS = 4;

interface Stock {
  ready: WebAssembly.Memory[];
  /** Asked of the maker and not yet received. */
  ordered: number;
}

const stocks = new Map<string, Stock>();
const sentImages = new Set<string>();
let maker: Worker | undefined;
let makerFailed = false;

function startMaker(): Worker | undefined {
  if (maker || makerFailed) return maker;
  try {
    maker = new Worker(new URL('./memory-maker-worker.js', import.meta.url), { env: {}, execArgv: [] });
  } catch {
    makerFailed = true;
    return undefined;
  }
  maker.on('message', ({ stockKey, memory }: MakerReply) => {
    const stock = stocks.get(stockKey);
    if (!stock) return;
    stock.ordered -= 1;
    if (stock.ready.length < STOCK_SIZE) stock.ready.push(memory);
  });
  // Without a maker the host makes memories itself: slower, never wrong.
  maker.on('error', () => {
    makerFailed = true;
    maker = undefined;
    stocks.clear();
    sentImages.clear();
  });
  // Stocking memories must never keep a process alive (unref after the listeners: adding one
  // refs the worker's port again).
  maker.unref();
  return maker;
}

function order(guest: EngineGuest, maxPages: number, stockKey: string, stock: Stock): void {
  const missing = STOCK_SIZE - stock.ready.length - stock.ordered;
  const worker = missing > 0 ? startMaker() : undefined;
  if (!worker) return;
  if (!sentImages.has(guest.key)) {
    const runs = guest.baseImage.map((run) => ({ offset: run.offset, bytes: run.bytes }));
    worker.postMessage({
      type: 'image',
      imageKey: guest.key,
      initialPages: guest.initialPages,
      runs,
    } satisfies MakerRequest);
    sentImages.add(guest.key);
  }
  stock.ordered += missing;
  worker.postMessage({ type: 'make', imageKey: guest.key, stockKey, maxPages, count: missing } satisfies MakerRequest);
}

/** A fresh memory holding the guest's base image, growable up to `maxPages`. */
export function takeGuestMemory(guest: EngineGuest, maxPages: number): WebAssembly.Memory {
  const stockKey = `${maxPages}:${guest.key}`;
  let stock = stocks.get(stockKey);
  if (stock) stocks.delete(stockKey);
  else stock = { ready: [], ordered: 0 };
  // Most recently used last.
  stocks.set(stockKey, stock);
  for (const key of stocks.keys()) {
    if (stocks.size <= MAX_STOCKS) break;
    stocks.delete(key);
  }
  const memory = stock.ready.pop();
  order(guest, maxPages, stockKey, stock);
  return memory ?? createGuestMemory(guest, maxPages);
}
