/**
 * Collects what a guest writes to stdout or stderr during one call, up to a cap, so that a
 * chatty guest can neither flood the host's memory nor reach the host's own stdout.
 */
const NOTHING = Object.freeze({ text: '', truncated: false });

export class OutputCapture {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private truncated = false;

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
  }

  /** Returns everything written since the last take, and starts afresh. */
  take(): { text: string; truncated: boolean } {
    // The common case, a call that printed nothing, allocates nothing.
    if (this.chunks.length === 0 && !this.truncated) return NOTHING;
    const text = Buffer.concat(this.chunks).toString('utf8');
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
