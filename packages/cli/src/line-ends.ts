/**
 * Guest output passed through to a stream, remembering whether it ended mid-line. The demo's
 * result line must start on a line of its own: stdout and stderr often share one terminal, so
 * a guest's `sys.stderr.write("err")` would otherwise glue to it (`erreval error: ...`).
 */
export class LineTrackingWriter {
  #midLine = false;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  write(text: string): void {
    if (text === '') return;
    this.stream.write(text);
    this.#midLine = !text.endsWith('\n');
  }

  /** Ends the guest's unfinished line, if any, so that what follows starts a new one. */
  endLine(): void {
    if (this.#midLine) this.write('\n');
  }
}
