/** One entry of `sandbox.listFiles()`. */
export interface FileEntry {
  name: string;
  type: 'file' | 'directory';
  /** Bytes, for files. */
  size?: number;
}
