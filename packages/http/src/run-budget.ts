/**
 * One request's time budget across its calls: `POST /v1/run` may hold a run slot for at most
 * `budgetMs` in all, however many statements it has. Each call gets the sandbox's own time
 * limit or what is left of the budget, whichever is shorter; when the budget runs out the guest
 * is stopped and the run reports `timeout`, like any call past its limit.
 *
 * The host takes one time limit per sandbox, not per call, so the shorter limit is enforced here
 * by closing the sandbox, which is safe only because a one-shot run's sandbox is never reused.
 */
import { TimeoutError, runProgram, type Program, type ProgramReport, type Sandbox } from '@component-sandbox/host';

function budgetSpent(budgetMs: number): TimeoutError {
  const error = new TimeoutError(budgetMs);
  error.message = `the request used up its time budget of ${budgetMs} ms (--max-timeout) across its calls; the guest was stopped`;
  return error;
}

/** Runs `program` on a one-shot `sandbox` within `budgetMs`; the sandbox is closed if the budget runs out. */
export async function runWithinBudget(sandbox: Sandbox, program: Program, budgetMs: number): Promise<ProgramReport> {
  const deadline = performance.now() + budgetMs;
  const within = async <T>(call: () => Promise<T>): Promise<T> => {
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw budgetSpent(budgetMs);
    // The sandbox's own limit ends the call first: nothing to add.
    if (remaining >= sandbox.limits.timeoutMs) return call();
    let timer: NodeJS.Timeout | undefined;
    const pending = call();
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        pending.catch(() => {}); // it fails once the sandbox closes; the budget already answered
        void sandbox.close();
        reject(budgetSpent(budgetMs));
      }, remaining);
    });
    try {
      return await Promise.race([pending, expired]);
    } finally {
      clearTimeout(timer);
    }
  };
  // runProgram only calls exec and eval: give it the same sandbox with both bounded.
  const bounded = Object.create(sandbox, {
    exec: { value: (code: string) => within(() => sandbox.exec(code)) },
    eval: { value: (code: string) => within(() => sandbox.eval(code)) },
  }) as Sandbox;
  return runProgram(bounded, program);
}
