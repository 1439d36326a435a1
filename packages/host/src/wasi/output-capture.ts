/**
 * Collects what a guest writes to stdout or stderr during one call, up to a cap, so that a
 * chatty guest can neither flood the host's memory nor reach the host's own stdout.
 */
import { outputWritten } from './live-output.js';

const NOTHING = Object.freeze({ text: '', truncated: false });

export class OutputCapture {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private truncated = false;
  /** Live mode: decodes chunks as they are sent, so the sent texts add up to the result. */
  private decoder: TextDecoder | undefined;
  private decoded = '';
  private decodedChunks = 0;

  constructor(private readonly capBytes: number) {}

  write(bytes: Uint8Array): void {
    const room = this.capBytes - this.size;
    if (room <= 0) {
      this.truncated ||= bytes.length > 0;
      return;
    }
    const kept = bytes.length > room ? bytes.slice(0, room) : bytes.slice();
    this.truncated ||= kept.length < bytes.length;
    this.chunks.push(kept);
    this.size += kept.length;
    if (this.decoder) outputWritten();
  }

  /** Starts (or stops) live mode for the next call: `fresh` hands out text as it comes. */
  live(on: boolean): void {
    this.decoder = on ? new TextDecoder() : undefined;
    this.decoded = '';
    this.decodedChunks = 0;
  }

  /** Live mode: the text written since the last `fresh` (a split character waits for its end). */
  fresh(): string {
    if (!this.decoder) return '';
    let text = '';
    for (; this.decodedChunks < this.chunks.length; this.decodedChunks += 1) {
      text += this.decoder.decode(this.chunks[this.decodedChunks], { stream: true });
    }
    this.decoded += text;
    return text;
  }

  /** Returns everything written since the last take, and starts afresh. */
  take(): { text: string; truncated: boolean } {
    // The common case, a call that printed nothing, allocates nothing.
    if (this.chunks.length === 0 && !this.truncated) return NOTHING;
    let text: string;
    if (this.decoder) {
      // Live mode: exactly the texts sent, and the end of the stream.
      this.fresh();
      text = this.decoded + this.decoder.decode();
      this.live(true);
    } else {
      text = Buffer.concat(this.chunks).toString('utf8');
    }
    const result = { text, truncated: this.truncated };
    this.chunks = [];
    this.size = 0;
    this.truncated = false;
    return result;
  }
}

/**
 * A message the guest controls (an exception's text) cut to `capBytes` of UTF-8, like output,
 * with a marker saying how much was dropped. Cut on a character boundary, never mid-character.
 */
export function capMessage(message: string, capBytes: number): string {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= capBytes) return message;
  let end = capBytes;
  // Back up over continuation bytes (10xxxxxx) so the kept text is whole characters.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  const kept = bytes.subarray(0, end).toString('utf8');
  return `${kept}... [message truncated: ${bytes.length - end} of ${bytes.length} bytes not shown]`;
}
