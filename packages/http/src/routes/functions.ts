/** `GET /v1/functions`: the host functions the server offers every sandbox (`--functions`). */
import type { App, AppContext } from '../context.js';

export function functionRoutes(secured: App, ctx: AppContext): void {
  const { schemas } = ctx;
  secured.get(
    '/v1/functions',
    {
      schema: {
        operationId: 'listFunctions',
        summary: 'The host functions guest code may call in every sandbox of this server',
        description:
          'Set by the operator with --functions MODULE (its exported functions). In Python each is a global ' +
          'and host.<name> (import host); in JavaScript a global and host.<name>. A failing function raises ' +
          'HostError in the guest; each call of a guest may make at most --max-host-calls of them.',
        tags: ['system'],
        security: [{ bearerAuth: [] }],
        response: { 200: schemas.FunctionsResponse, '4xx': schemas.ErrorResponse, '5xx': schemas.ErrorResponse },
      },
    },
    async () => ({ functions: await ctx.functions() }),
  );
}
