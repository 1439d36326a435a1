/**
 * wasi:filesystem (types, preopens) for one sandbox: the guest's own read-only trees as
 * preopens in the order its build recorded them, then, for guests built with one, the virtual
 * root `/` (see virtual-root.ts) holding the writable scratch directory and further mounts.
 * Also recreates filesystem handles from saved state, over this sandbox's objects.
 */
import { SCRATCH_GUEST_PATH } from '@component-sandbox/wit';
import { DirectoryEntryStream } from './directory-entries.js';
import { Descriptor, Tree, type ReadOnlyMount } from './filesystem.js';
import { FilesystemIoError, ScratchDescriptor, scratchInputStream, scratchOutputStream } from './scratch-files.js';
import type { ScratchStore } from './scratch-store.js';
import type { DescriptorState, ResourceState } from './state.js';
import { VirtualDirectory, VirtualFilesystem } from './virtual-root.js';

export interface FilesystemOptions {
  /** The guest's preopened read-only trees, in the order its build preopened them. */
  preopens: readonly ReadOnlyMount[];
  /** Present when the guest was built with a `/` preopen after those. */
  virtualRoot?: {
    /** The sandbox's writable `/tmp`; absent: no scratch directory. */
    scratch?: ScratchStore;
    /** More read-only trees, reachable only through `/`. */
    mounts: readonly ReadOnlyMount[];
  };
}

export interface FilesystemImports {
  'wasi:filesystem/types': Record<string, unknown>;
  'wasi:filesystem/preopens': Record<string, unknown>;
}

export function createFilesystem(options: FilesystemOptions): FilesystemImports {
  const preopenTrees = options.preopens.map((mount) => new Tree(mount.hostDir, mount.guestPath));
  const extraTrees = (options.virtualRoot?.mounts ?? []).map((mount) => new Tree(mount.hostDir, mount.guestPath));
  const trees = [...preopenTrees, ...extraTrees];
  const scratch = options.virtualRoot?.scratch;
  const virtual = options.virtualRoot
    ? new VirtualFilesystem(trees, scratch && { guestPath: SCRATCH_GUEST_PATH, store: scratch })
    : undefined;
  const preopens: [object, string][] = preopenTrees.map((tree) => [Descriptor.root(tree), tree.guestPath]);
  if (virtual) preopens.push([virtual.root(), '/']);

  const restoreDescriptor = (state: DescriptorState): Descriptor | ScratchDescriptor | VirtualDirectory => {
    switch (state.kind) {
      case 'descriptor':
        return Descriptor.restore(state, trees);
      case 'scratch-descriptor':
        return ScratchDescriptor.restore(requireScratch(scratch), state);
      case 'virtual-directory':
        if (!virtual) throw new Error('cannot restore a directory of `/`: this guest has no virtual root');
        return virtual.restore(state);
    }
  };

  /** The filesystem object `state` describes, or undefined if it is not a filesystem object. */
  const restoreResource = (state: ResourceState): object | undefined => {
    switch (state.kind) {
      case 'descriptor':
      case 'scratch-descriptor':
      case 'virtual-directory':
        return restoreDescriptor(state);
      case 'directory-entry-stream':
        return DirectoryEntryStream.restore(restoreDescriptor(state.directory), state.position);
      case 'input-stream':
        return state.source.kind === 'scratch-file'
          ? scratchInputStream(requireScratch(scratch), state.source.ino, state.source.offset, true)
          : Descriptor.restore(state.source.descriptor, trees).readViaStream(
              state.source.offset === null ? 2n ** 64n - 1n : BigInt(state.source.offset),
            );
      case 'output-stream':
        return scratchOutputStream(requireScratch(scratch), state.sink.ino, state.sink.offset, true);
      default:
        return undefined;
    }
  };

  return {
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      // A failed write to a scratch file carries its code (ENOSPC rather than EIO).
      filesystemErrorCode: (error: unknown) => (error instanceof FilesystemIoError ? error.code : undefined),
      restoreResource,
    },
    'wasi:filesystem/preopens': {
      getDirectories: () => preopens,
    },
  };
}

function requireScratch(scratch: ScratchStore | undefined): ScratchStore {
  if (!scratch) throw new Error('cannot restore a /tmp handle: this sandbox has no scratch directory');
  return scratch;
}
