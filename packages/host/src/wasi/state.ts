/**
 * Plain-data descriptions of the host objects behind a guest's resource handles: what a sandbox
 * needs to recreate equal objects in another thread or process (see binding/handles.ts).
 * Everything here is structured-clonable and JSON-safe (64-bit numbers as decimal strings).
 */

/** A descriptor of a read-only tree. */
export interface TreeDescriptorState {
  kind: 'descriptor';
  /** The mount's guestPath, e.g. `/python`. */
  mount: string;
  /** '/'-separated path below the mount's root; '' for the root itself. */
  path: string;
  openFlags: { directory?: boolean };
  flags: { read?: boolean };
}

/** A descriptor of the scratch directory: the inode (ids are stable within a sandbox). */
export interface ScratchDescriptorState {
  kind: 'scratch-descriptor';
  ino: number;
  flags: { read?: boolean; write?: boolean };
}

/** A directory of the virtual root that is not itself mounted (`/`, or `/data` above `/data/sets`). */
export interface VirtualDirectoryState {
  kind: 'virtual-directory';
  /** '/'-separated, '' for the root. */
  path: string;
}

export type DescriptorState = TreeDescriptorState | ScratchDescriptorState | VirtualDirectoryState;

export type ByteSourceState =
  /** A file read through a stream: the file's descriptor and the next offset (null: past 2^53). */
  | { kind: 'file'; descriptor: TreeDescriptorState; offset: number | null }
  /** A scratch file read through a stream (offset null: past 2^53, end of file). */
  | { kind: 'scratch-file'; ino: number; offset: number | null };

/** Where a file output stream writes: a scratch file at an offset, or at its end (null). */
export type ByteSinkState = { kind: 'scratch-file'; ino: number; offset: number | null };

export type ResourceState =
  | DescriptorState
  | { kind: 'directory-entry-stream'; directory: DescriptorState; position: number }
  | { kind: 'input-stream'; source: ByteSourceState }
  | { kind: 'output-stream'; sink: ByteSinkState }
  /** The sandbox's own standard streams: recreated by role, not by content. */
  | { kind: 'stdio'; role: 'stdin' | 'stdout' | 'stderr' }
  /** A monotonic-clock deadline in nanoseconds (decimal), or null for always ready. */
  | { kind: 'pollable'; deadline: string | null }
  | { kind: 'error'; message: string };
