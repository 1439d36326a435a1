/**
 * The one job of the CLI, as a function: zero or more statements, then one expression, in one
 * fresh sandbox, reported as the reference demo reports it.
 */
import { GuestError, MemoryLimitError, TimeoutError, createSandbox, type SandboxLimits } from '@component-sandbox/host';
import { guestArtifactDir, type Language } from './guests.js';

export type RunStatus = 'ok' | 'exec-error' | 'eval-error' | 'timeout' | 'memory-limit' | 'crashed';

export interface RunRequest extends Pick<SandboxLimits, 'timeoutMs' | 'memoryLimitBytes'> {
  language: Language;
  statements: string[];
  expression: string;
  /** Called after each call with what the guest printed, so output appears in order. */
  onOutput?: (stdout: string, stderr: string) => void;
}

export interface RunReport {
  status: RunStatus;
  /** The decoded value, when status is ok. */
  value?: unknown;
  /** The guest's JSON text, when status is ok. */
  json?: string;
  /** The guest's `ExcType: message`, or the host's reason for a timeout or crash. */
  error?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Exit codes, documented in --help and the README. */
export const EXIT_CODES: Record<RunStatus, number> = {
  ok: 0,
  'exec-error': 1,
  'eval-error': 1,
  timeout: 3,
  'memory-limit': 4,
  crashed: 4,
};

function failure(phase: 'exec' | 'eval', error: unknown): Pick<RunReport, 'status' | 'error'> {
  if (error instanceof GuestError) return { status: `${phase}-error`, error: error.guestMessage };
  if (error instanceof TimeoutError) return { status: 'timeout', error: error.message };
  if (error instanceof MemoryLimitError) return { status: 'memory-limit', error: error.message };
  if (error instanceof Error && 'code' in error) return { status: 'crashed', error: error.message };
  throw error;
}

export async function runSnippets(request: RunRequest): Promise<RunReport> {
  const guest = await guestArtifactDir(request.language);
  await using sandbox = await createSandbox({
    guest,
    ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
    ...(request.memoryLimitBytes !== undefined ? { memoryLimitBytes: request.memoryLimitBytes } : {}),
  });
  const report: RunReport = { status: 'ok', stdout: '', stderr: '', durationMs: 0 };
  const record = (out: { stdout: string; stderr: string; durationMs: number }) => {
    report.stdout += out.stdout;
    report.stderr += out.stderr;
    report.durationMs += out.durationMs;
    if (out.stdout || out.stderr) request.onOutput?.(out.stdout, out.stderr);
  };

  for (const statements of request.statements) {
    try {
      record(await sandbox.exec(statements));
    } catch (error) {
      if (error instanceof GuestError) record({ ...error.output, durationMs: error.durationMs });
      return { ...report, ...failure('exec', error) };
    }
  }
  try {
    const result = await sandbox.eval(request.expression);
    record(result);
    return { ...report, value: result.value, json: result.json };
  } catch (error) {
    if (error instanceof GuestError) record({ ...error.output, durationMs: error.durationMs });
    return { ...report, ...failure('eval', error) };
  }
}

/** The demo's one-line summary of a run. */
export function summaryLine(report: RunReport): string {
  switch (report.status) {
    case 'ok':
      return `result: ${report.json}`;
    case 'exec-error':
      return `exec error: ${report.error}`;
    case 'eval-error':
      return `eval error: ${report.error}`;
    case 'timeout':
      return 'timeout!';
    case 'memory-limit':
    case 'crashed':
      return `error: ${report.error}`;
  }
}
