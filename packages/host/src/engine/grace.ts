/**
 * When a soft stop has had its chance: the policy between a call's soft stop (Python's
 * KeyboardInterrupt at its next eval-breaker check) and its hard stop (the build's trap checks,
 * which lose the session). Shared by the engine's executors and the in-process watchdog.
 */

/**
 * After a soft stop, how long Python has to reach an eval-breaker check before the hard stop.
 * The request is sent again within it: CPython updates its eval-breaker word without atomics,
 * so a bit the host set can be lost to a concurrent update of another bit.
 */
export const SOFT_GRACE_MS = 25;
export const SOFT_RESEND_MS = [5, 15] as const;
/**
 * Where the guest thread's CPU time can be read: the hard stop comes once the thread has run
 * this share of the grace since the soft stop (it ran, and did not stop) ...
 */
const GRACE_CPU_SHARE = 0.8;
/** ... or this long after the soft stop, however starved the thread. */
const MAX_STARVED_GRACE_MS = 2000;
/** Elsewhere: a grace timer this late says the process is starved of CPU (see afterTimedGrace). */
const STARVED_LATENESS_MS = 10;
const STARVED_EXTENSIONS = 3;
/** Grace periods for a call whose code has not run warm on its thread yet. */
const COLD_EXTENSIONS = 8;

/**
 * Runs `then` once the soft stop's grace has passed, resending the soft stop meanwhile. The
 * grace is the guest's time to reach its interrupt check, so it is counted in CPU time of the
 * guest's thread where that can be read: on a machine with more runnable threads than cores
 * the thread may not run for a while, and a hard stop then would lose a session that the soft
 * stop keeps. A cold call gets more (V8 compiles wasm lazily, as it runs).
 */
export function afterGrace(
  timers: NodeJS.Timeout[],
  then: () => void,
  resend: () => void,
  cold: boolean,
  cpuMs: (() => number | undefined) | undefined,
): void {
  const ranBefore = cpuMs?.();
  if (cpuMs === undefined || ranBefore === undefined) return afterTimedGrace(timers, then, resend, cold);
  const neededMs = SOFT_GRACE_MS * GRACE_CPU_SHARE * (cold ? COLD_EXTENSIONS : 1);
  const softStopAt = performance.now();
  const check = () => {
    const ran = (cpuMs() ?? Infinity) - ranBefore;
    if (ran >= neededMs || performance.now() - softStopAt >= MAX_STARVED_GRACE_MS) return then();
    resend();
    timers.push(setTimeout(check, SOFT_GRACE_MS));
  };
  timers.push(setTimeout(check, SOFT_GRACE_MS));
}

/**
 * afterGrace where the thread's CPU time is unknown: a timer that fires late means the machine
 * is starved of CPU, and the guest's thread likely had no time to reach its interrupt check, so
 * the grace starts again (a few times at most).
 */
function afterTimedGrace(
  timers: NodeJS.Timeout[],
  then: () => void,
  resend: () => void,
  cold: boolean,
  extensions = cold ? COLD_EXTENSIONS : STARVED_EXTENSIONS,
): void {
  const armed = performance.now();
  timers.push(
    setTimeout(() => {
      const lateMs = performance.now() - armed - SOFT_GRACE_MS;
      if ((cold || lateMs > STARVED_LATENESS_MS) && extensions > 0) {
        resend();
        afterTimedGrace(timers, then, resend, cold, extensions - 1);
      } else {
        then();
      }
    }, SOFT_GRACE_MS),
  );
}
