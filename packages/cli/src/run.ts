/**
 * The one job of the CLI, as a function: zero or more statements, then one expression, in one
 * fresh sandbox, reported as the reference demo reports it.
 */
import {
  createSandbox,
  runCells,
  runProgram,
  type CallStatus,
  type ProgramResult,
  type Mount,
  type SandboxLimits,
} from '@component-sandbox/host';
import { copyFilesIn, type FileCopy } from './files.js';
import { guestArtifactDir, type Language } from './guests.js';

export interface RunRequest extends Pick<SandboxLimits, 'timeoutMs' | 'memoryLimitBytes' | 'tmpLimitBytes'> {
  mounts?: readonly Mount[];
  packages?: string;
  /** Host files copied into the sandbox before the first call. */
  copies?: readonly FileCopy[];
  language: Language;
  /** A guest artifact directory (built with component-sandbox-build) instead of the language's default guest. */
  guestDir?: string;
  statements: string[];
  /** Evaluated last; optional with `cells`, where it is one more cell. */
  expression?: string;
  /** Run every piece of code (the statements and the expression) as a cell, in order. */
  cells?: boolean;
  /** What the guest reads on stdin; every call reads it from the start. */
  stdin?: string;
  /** An ES module whose exported functions the guest may call (`functionsModule`). */
  functionsModule?: string;
  /** Called after each call with what the guest printed, so output appears in order. */
  onOutput?: (stdout: string, stderr: string) => void;
}

export type RunReport = ProgramResult;

/** Exit codes, documented in --help and the README. */
export const EXIT_CODES: Record<CallStatus, number> = {
  ok: 0,
  exec_error: 1,
  eval_error: 1,
  timeout: 3,
  memory_limit: 4,
  crashed: 4,
  // The CLI never cancels a call itself; a library caller's signal can (exit 130, like SIGINT).
  cancelled: 130,
};

export async function runSnippets(request: RunRequest): Promise<RunReport> {
  const guest = await guestArtifactDir(request.language, request.guestDir);
  const sandbox = await createSandbox({
    guest,
    ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
    ...(request.memoryLimitBytes !== undefined ? { memoryLimitBytes: request.memoryLimitBytes } : {}),
    ...(request.tmpLimitBytes !== undefined ? { tmpLimitBytes: request.tmpLimitBytes } : {}),
    ...(request.mounts ? { mounts: request.mounts } : {}),
    ...(request.packages !== undefined ? { packages: request.packages } : {}),
    ...(request.functionsModule !== undefined ? { functionsModule: request.functionsModule } : {}),
  });
  try {
    await copyFilesIn(sandbox, request.copies ?? []);
    const shared = {
      ...(request.onOutput ? { onOutput: request.onOutput } : {}),
      ...(request.stdin !== undefined ? { stdin: request.stdin } : {}),
    };
    const { statements, expression } = request;
    if (request.cells) {
      const cells = expression === undefined ? statements : [...statements, expression];
      return await runCells(sandbox, { cells, ...shared });
    }
    if (expression === undefined) throw new TypeError('runSnippets: an expression is needed, except with cells');
    return await runProgram(sandbox, { statements, expression, ...shared });
  } finally {
    await sandbox.close();
  }
}

/**
 * The report as one line of JSON, with the guest's JSON text spliced in as `value` rather than
 * parsed and serialised again: serialising recurses, and a value nested thousands deep (valid
 * JSON the guest produced) would overflow the stack.
 */
export function reportJson(report: RunReport): string {
  const { value: _value, json, ...rest } = report;
  const head = JSON.stringify(rest);
  if (json === undefined) return head;
  return `${head.slice(0, -1)},"value":${json},"json":${JSON.stringify(json)}}`;
}

/** The demo's one-line summary of a run; none for cells that end without a value. */
export function summaryLine(report: RunReport): string | undefined {
  switch (report.status) {
    case 'ok':
      return report.json === undefined ? undefined : `result: ${report.json}`;
    case 'exec_error':
      return `exec error: ${report.error?.message}`;
    case 'eval_error':
      return `eval error: ${report.error?.message}`;
    case 'timeout':
      return 'timeout!';
    case 'cancelled':
      return 'cancelled';
    case 'memory_limit':
    case 'crashed':
      return `error: ${report.error?.message}`;
  }
}
