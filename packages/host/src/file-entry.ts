/** One entry of `sandbox.listFiles()`. */
export interface FileEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  /** Bytes, for files. */
  size?: number;
  /** Where a symlink the guest made points (it resolves within /tmp only). */
  target?: string;
}
