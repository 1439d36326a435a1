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
