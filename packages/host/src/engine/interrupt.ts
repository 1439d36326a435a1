/**
 * Stopping a running call from another thread by writing into the guest's shared memory, at
 * the addresses its build published (manifest `interrupt`):
 *   soft: CPython raises KeyboardInterrupt at its next eval-breaker check (`finally` blocks run,
 *         the session's globals survive);
 *   hard: checks the build put at loop headers trap, whatever the guest was doing.
 * The host knows which it did, so a call's status never depends on what the guest says.
 */
import type { InterruptInfo } from '@component-sandbox/wit';

export type StopLevel = 'soft' | 'hard';

function words(memory: WebAssembly.Memory): Int32Array {
  return new Int32Array(memory.buffer);
}

/** True when the guest can be stopped at `level` without discarding its executor. */
export function canStop(info: InterruptInfo | undefined, level: StopLevel): boolean {
  return level === 'soft' ? info?.python !== undefined : info !== undefined;
}

export function requestStop(memory: WebAssembly.Memory, info: InterruptInfo | undefined, level: StopLevel): void {
  if (!info) return;
  const view = words(memory);
  if (level === 'soft' && info.python) {
    const { asyncExcAddress, exceptionAddress, evalBreakerAddress, asyncExceptionBit } = info.python;
    // The exception first: the breaker bit makes the interpreter read it.
    Atomics.store(view, asyncExcAddress / 4, exceptionAddress);
    Atomics.or(view, evalBreakerAddress / 4, 1 << asyncExceptionBit);
  }
  if (level === 'hard') Atomics.store(view, info.hardStop.address / 4, info.hardStop.value | 0);
}

/**
 * Clears every stop request once the guest is idle again, including a soft stop that arrived
 * after the call's last eval-breaker check: left set, it would interrupt the next call.
 */
export function clearStop(memory: WebAssembly.Memory, info: InterruptInfo | undefined): void {
  if (!info) return;
  const view = words(memory);
  if (info.python) {
    Atomics.and(view, info.python.evalBreakerAddress / 4, ~(1 << info.python.asyncExceptionBit));
    Atomics.store(view, info.python.asyncExcAddress / 4, 0);
  }
  Atomics.store(view, info.hardStop.address / 4, 0);
}
