/**
 * A sandbox's stdin: the text the running call was given (the `stdin` call option), then end of
 * file. Each call starts afresh: what one call did not read is not there for the next.
 */
import type { ByteSource } from './io.js';

const NOTHING = new Uint8Array(0);

export class CallInput implements ByteSource {
  #bytes: Uint8Array = NOTHING;
  #offset = 0;

  /** The next call's stdin; undefined for none (end of file at once). */
  set(text: string | undefined): void {
    this.#bytes = text ? Buffer.from(text, 'utf8') : NOTHING;
    this.#offset = 0;
  }

  read(length: number): Uint8Array {
    const chunk = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += chunk.length;
    return chunk;
  }
}
