/** `POST /v1/run`: statements then an expression, in a fresh sandbox that is closed afterwards. */
import type { App, AppContext } from '../context.js';
import { checkCode, resolveLimits } from '../limits.js';
import { call, type CallResult } from '../outcome.js';
import type { RunResponse } from '../schemas.js';

export function runRoutes(app: App, ctx: AppContext): void {
  const { config, schemas, sandboxes, limiter, metrics } = ctx;

  app.post(
    '/v1/run',
    {
      schema: {
        summary: 'Run statements and evaluate an expression in a fresh sandbox',
        description:
          'The sandbox is created for this request and closed afterwards. Guest errors, timeouts and memory ' +
          'errors are results (200, see status); 429 with Retry-After when the server is saturated.',
        tags: ['runs'],
        security: [{ bearerAuth: [] }],
        body: schemas.RunRequest,
        response: { 200: schemas.RunResponse, '4xx': schemas.ErrorResponse, '5xx': schemas.ErrorResponse },
      },
    },
    async (request) => {
      const body = request.body;
      const language = body.language ?? config.defaultLanguage;
      const limits = resolveLimits(body, config);
      const statements = body.statements ?? [];
      statements.forEach((code, i) => checkCode(config, code, `statements[${i}]`));
      checkCode(config, body.expression, 'expression');
      await sandboxes.guest(language); // 503 before waiting for a slot

      const started = performance.now();
      const report = await limiter.run(async (): Promise<RunResponse> => {
        const sandbox = await sandboxes.open(language, limits);
        const total: CallResult = { status: 'ok', stdout: '', stderr: '', outputTruncated: false, durationMs: 0 };
        const add = (result: CallResult) => {
          total.stdout += result.stdout;
          total.stderr += result.stderr;
          total.outputTruncated ||= result.outputTruncated;
          total.durationMs += result.durationMs;
          if (result.memoryBytes !== undefined) total.memoryBytes = result.memoryBytes;
        };
        const finish = (extra: Partial<RunResponse>): RunResponse => ({
          ...total,
          language,
          elapsedMs: performance.now() - started,
          ...extra,
        });
        try {
          for (const [index, code] of statements.entries()) {
            const result = await call(sandbox, 'exec', code);
            add(result);
            if (result.status !== 'ok') {
              return finish({ status: result.status, error: result.error, failedStatement: index });
            }
          }
          const result = await call(sandbox, 'eval', body.expression);
          add(result);
          return finish({ status: result.status, error: result.error, value: result.value, json: result.json });
        } finally {
          await sandboxes.close(sandbox);
        }
      });
      metrics.observeRun('run', language, report.status, (performance.now() - started) / 1000);
      request.log.info(
        { language, status: report.status, durationMs: Math.round(report.durationMs), statements: statements.length },
        'run finished',
      );
      return report;
    },
  );
}
