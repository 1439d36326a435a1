/**
 * One request's time budget across its calls: `POST /v1/run` may hold a run slot for at most
 * `budgetMs` in all, however many statements it has. Each call gets the sandbox's own time
 * limit or what is left of the budget, whichever is shorter (the host takes a per-call limit),
 * and a run the budget ended says so.
 */
import { runProgram, type Program, type ProgramResult, type Sandbox } from '@component-sandbox/host';

export async function runWithinBudget(sandbox: Sandbox, program: Program, budgetMs: number): Promise<ProgramResult> {
  const result = await runProgram(sandbox, { ...program, timeBudgetMs: budgetMs });
  if (!result.budgetSpent) return result;
  const message = `the request used up its time budget of ${budgetMs} ms (--max-timeout) across its calls; the guest was stopped`;
  return { ...result, error: { type: 'Timeout', message } };
}
