/**
 * The build's half of stopping a call without killing a thread (`interrupt` in the manifest):
 * the hard-stop checks inserted into the transpiled core modules, and the value that trips them.
 */
import { readDefinedMemories, type InterruptInfo } from '@component-sandbox/wit';
import type { BackendInterruptWords } from './backend.js';
import { readSections } from '@component-sandbox/wit';
import { memoryCount, readI32Globals, readImports, readInitialMemory } from './wasm/binary.js';
import { insertLoopChecks } from './wasm/loop-checks.js';

/**
 * The value of the hard-stop word that traps the guest. A specific, arbitrary 32-bit pattern
 * rather than "non-zero": it is not a small integer, not a plausible pointer into a sandbox's
 * memory (above 3 GiB), not a float or text a program would commonly write, so a stray write
 * (for JavaScript the word lies in the stack's far end) cannot stop a guest by accident.
 */
export const HARD_STOP_VALUE = 0xc5b5_7091;

/**
 * JavaScript (componentize-js / StarlingMonkey): we do not link the engine, so the word is one
 * no guest code uses. wasm-ld places StarlingMonkey's 1 MiB stack first, [0, 1 MiB), growing
 * down from 1 MiB, and the heap after it. Address 0x400 is 1023 KiB below the stack's top:
 * SpiderMonkey stops JavaScript recursion ("too much recursion") at its native stack quota,
 * far above this, so only a C++ recursion about to overflow the stack (a trap that kills the
 * instance anyway) could reach it; and it is above the first KiB, where stores through a NULL
 * struct pointer would land. The snapshot has no data there, and the guest-build test checks
 * that deep JavaScript recursion leaves it zero. A stray write could at worst erase a pending
 * stop (the host writes it again), never cause one: only HARD_STOP_VALUE trips the checks.
 */
export const JAVASCRIPT_HARD_STOP_ADDRESS = 0x400;

/** How far below the stack's start a word in the stack region must be. */
const STACK_MARGIN_BYTES = 64 * 1024;

export interface InstrumentedModules {
  files: Record<string, Uint8Array>;
  /** Loop headers that received a check, per core module file. */
  loops: Record<string, number>;
}

/**
 * Inserts the hard-stop check into every transpiled core module that uses the guest's linear
 * memory: the main module (the only one that defines a memory) and the WASI adapter (which
 * imports that memory as its memory 0). The shim and fixup modules have no memory and no loops.
 */
export function insertHardStopChecks(
  files: Record<string, Uint8Array>,
  words: BackendInterruptWords,
): InstrumentedModules {
  const address = words.hardStopAddress;
  const out: Record<string, Uint8Array> = {};
  const loops: Record<string, number> = {};
  const definers = Object.entries(files).filter(
    ([file, bytes]) => file.endsWith('.wasm') && readDefinedMemories(bytes).length > 0,
  );
  if (definers.length !== 1) {
    throw new Error(`expected one core module defining the guest's memory, found ${definers.length}`);
  }
  const [mainFile, main] = definers[0]!;
  if (readInitialMemory(main, address, 4).some((b) => b !== 0)) {
    throw new Error(`${mainFile}: the hard-stop word at ${address} is initialised by a data segment`);
  }
  if (words.inStack) {
    // __stack_pointer is the first global wasm-ld defines; the stack grows down from it.
    const stackTop = readI32Globals(main).get(0);
    if (stackTop === undefined || stackTop < address + STACK_MARGIN_BYTES) {
      throw new Error(`${mainFile}: the stack starts at ${stackTop}, too close to the hard-stop word at ${address}`);
    }
  }
  for (const [file, bytes] of Object.entries(files)) {
    if (!file.endsWith('.wasm')) {
      out[file] = bytes;
      continue;
    }
    const sections = readSections(bytes);
    const memories = memoryCount(bytes, sections);
    if (memories === 0) {
      out[file] = bytes;
      continue;
    }
    const importedMemories = readImports(bytes, sections).filter((i) => i.kind === 2);
    if (memories !== 1 || (importedMemories.length === 1 && importedMemories[0]!.name !== 'memory')) {
      throw new Error(`${file}: expected the guest's one memory, found another memory layout`);
    }
    const result = insertLoopChecks(bytes, { address, value: HARD_STOP_VALUE });
    out[file] = result.bytes;
    loops[file] = result.loops;
  }
  return { files: out, loops };
}

/** The manifest's `interrupt` for a backend's words. */
export function interruptManifest(words: BackendInterruptWords): InterruptInfo {
  return {
    hardStop: { address: words.hardStopAddress, value: HARD_STOP_VALUE },
    ...(words.python ? { python: words.python } : {}),
  };
}
