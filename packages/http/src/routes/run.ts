/** `POST /v1/run`: statements then an expression, in a fresh sandbox that is closed afterwards. */
import type { App, AppContext } from '../context.js';
import { decodeRequestFiles, writeRequestFiles } from '../files.js';
import { checkCode, checkStdin, resolveLimits } from '../limits.js';
import { capResult, misuseError } from '../outcome.js';
import { sendResult } from '../response.js';
import { runWithinBudget } from '../run-budget.js';
import type { RunResponse } from '../schemas.js';

export function runRoutes(app: App, ctx: AppContext): void {
  const { config, schemas, sandboxes, slot, metrics } = ctx;

  app.post(
    '/v1/run',
    {
      schema: {
        operationId: 'runCode',
        summary: 'Run statements and evaluate an expression in a fresh sandbox',
        description:
          'The sandbox is created for this request and closed afterwards; `files` are written into its /tmp first. ' +
          'Guest errors, timeouts and memory ' +
          'errors are results (200, see status); 429 with Retry-After when the server is saturated. All the ' +
          `calls of one run share a time budget of ${config.maxTimeoutMs} ms (--max-timeout).`,
        tags: ['runs'],
        security: [{ bearerAuth: [] }],
        body: schemas.RunRequest,
        response: { 200: schemas.RunResponse, '4xx': schemas.ErrorResponse, '5xx': schemas.ErrorResponse },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const language = body.language ?? config.defaultLanguage;
      const limits = resolveLimits(body, config);
      const statements = body.statements ?? [];
      statements.forEach((code, i) => checkCode(config, code, `statements[${i}]`));
      checkCode(config, body.expression, 'expression');
      checkStdin(config, body.stdin);
      const files = decodeRequestFiles(body.files);
      await sandboxes.guest(language); // 503 before waiting for a slot

      const started = performance.now();
      const report = await slot(request.owner, async (): Promise<RunResponse> => {
        const sandbox = await sandboxes.open(language, limits);
        try {
          await writeRequestFiles(sandbox, files, limits);
          const program = await runWithinBudget(
            sandbox,
            { statements, expression: body.expression, ...(body.stdin !== undefined ? { stdin: body.stdin } : {}) },
            config.maxTimeoutMs,
          );
          return { ...capResult(program, config.maxResultBytes), language, elapsedMs: performance.now() - started };
        } catch (error) {
          throw misuseError(error) ?? error;
        } finally {
          await sandboxes.close(sandbox);
        }
      });
      metrics.observeRun('run', language, report.status, (performance.now() - started) / 1000);
      request.log.info(
        { language, status: report.status, durationMs: Math.round(report.durationMs), statements: statements.length },
        'run finished',
      );
      return sendResult(reply, report);
    },
  );
}
