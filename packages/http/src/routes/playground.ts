/** `GET /`: the playground page and its script, with a strict Content-Security-Policy. */
import type { App } from '../context.js';
import { PLAYGROUND_HTML } from '../playground/page.js';
import { PLAYGROUND_JS } from '../playground/script.js';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function playgroundRoutes(app: App): void {
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .send(PLAYGROUND_HTML),
  );
  app.get('/playground.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('x-content-type-options', 'nosniff').send(PLAYGROUND_JS),
  );
}
