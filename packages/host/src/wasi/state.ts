/**
 * Plain-data descriptions of the host objects behind a guest's resource handles: what a sandbox
 * needs to recreate equal objects in another thread or process (see binding/handles.ts).
 * Everything here is structured-clonable and JSON-safe (64-bit numbers as decimal strings).
 */

export interface DescriptorState {
  kind: 'descriptor';
  /** The mount's guestPath, e.g. `/python`. */
  mount: string;
  /** '/'-separated path below the mount's root; '' for the root itself. */
  path: string;
  openFlags: { directory?: boolean };
  flags: { read?: boolean };
}

export type ByteSourceState =
  /** A file read through a stream: the file's descriptor and the next offset (null: past 2^53). */
  { kind: 'file'; descriptor: DescriptorState; offset: number | null };

export type ResourceState =
  | DescriptorState
  | { kind: 'directory-entry-stream'; directory: DescriptorState; position: number }
  | { kind: 'input-stream'; source: ByteSourceState }
  /** The sandbox's own standard streams: recreated by role, not by content. */
  | { kind: 'stdio'; role: 'stdin' | 'stdout' | 'stderr' }
  /** A monotonic-clock deadline in nanoseconds (decimal), or null for always ready. */
  | { kind: 'pollable'; deadline: string | null }
  | { kind: 'error'; message: string };
