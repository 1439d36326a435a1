/**
 * wasi:filesystem directory-entry-stream: a listing taken when the guest asked for it, read one
 * entry at a time. Shared by every kind of directory (read-only trees, scratch, virtual root).
 */
import type { DescriptorState } from './state.js';

export type EntryType = 'directory' | 'regular-file' | 'symbolic-link' | 'unknown';

/** A directory that can be listed again and named in saved state. */
export interface ListableDirectory {
  describe(): DescriptorState;
  readDirectory(): DirectoryEntryStream;
}

export class DirectoryEntryStream {
  private index = 0;
  constructor(
    private readonly entries: { name: string; type: EntryType }[],
    /** The directory being listed, which names it when serialised. */
    private readonly directory?: ListableDirectory,
  ) {}

  readDirectoryEntry(): { name: string; type: EntryType } | undefined {
    return this.entries[this.index++];
  }

  /** Serialisation hook: the directory and how far the guest has read it. */
  describe() {
    if (!this.directory) return undefined;
    return { kind: 'directory-entry-stream' as const, directory: this.directory.describe(), position: this.index };
  }

  /** Lists `directory` afresh and skips what the guest had already read. */
  static restore(directory: ListableDirectory, position: number): DirectoryEntryStream {
    const stream = directory.readDirectory();
    stream.index = position;
    return stream;
  }
}
