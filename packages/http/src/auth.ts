/**
 * API keys: `Authorization: Bearer <key>`. Keys are kept only as SHA-256 digests and a presented
 * key is compared with every one of them with crypto.timingSafeEqual, so neither the comparison
 * nor the number of keys checked depends on how much of a key matched. A caller is identified by
 * the digest of its key (its "owner" id), which sessions are tied to.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** Owner id of every caller when the server runs without keys (loopback only). */
export const ANONYMOUS = 'anonymous';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class ApiKeys {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = [...new Set(keys)].map(digest);
  }

  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /** The owner id of a valid key, or undefined. Constant time in the key's content. */
  match(presented: string): string | undefined {
    const candidate = digest(presented);
    let found: Buffer | undefined;
    for (const known of this.#digests) {
      // No early exit: every key is compared, whatever matched before.
      if (timingSafeEqual(candidate, known)) found = known;
    }
    return found ? `key:${found.toString('hex').slice(0, 16)}` : undefined;
  }

  /** The owner of a request, or an ApiError 401 saying what is wrong. */
  authenticate(request: FastifyRequest): string {
    if (!this.enabled) return ANONYMOUS;
    const header = request.headers.authorization;
    const challenge = { 'WWW-Authenticate': 'Bearer realm="component-sandbox"' };
    if (!header) {
      throw new ApiError(401, 'MISSING_API_KEY', 'send an API key: Authorization: Bearer <key>', challenge);
    }
    const match = /^Bearer +(\S+) *$/i.exec(header);
    const owner = match ? this.match(match[1]!) : undefined;
    if (!owner) throw new ApiError(401, 'INVALID_API_KEY', 'the API key is not valid', challenge);
    return owner;
  }
}
