/** wasi:filesystem@0.2 (types, preopens). Enum and flags cases in the WIT's order. */
import {
  bool,
  borrow,
  enumeration,
  flags,
  list,
  option,
  own,
  record,
  result,
  string,
  tuple,
  u64,
  u8,
  variant,
} from '../canon.js';
import { resource } from '../resource-type.js';
import { defineInterface, func, resourceDef } from '../wit.js';
import { datetime } from './clocks.js';
import { error, inputStream, outputStream } from './io.js';

const TYPES = 'wasi:filesystem/types';

export const descriptor = resource(TYPES, 'descriptor');
export const directoryEntryStream = resource(TYPES, 'directory-entry-stream');

const filesize = u64;
const linkCount = u64;

export const descriptorType = enumeration(
  'unknown',
  'block-device',
  'character-device',
  'directory',
  'fifo',
  'symbolic-link',
  'regular-file',
  'socket',
);

export const descriptorFlags = flags(
  'read',
  'write',
  'file-integrity-sync',
  'data-integrity-sync',
  'requested-write-sync',
  'mutate-directory',
);

export const descriptorStat = record({
  type: descriptorType,
  'link-count': linkCount,
  size: filesize,
  'data-access-timestamp': option(datetime),
  'data-modification-timestamp': option(datetime),
  'status-change-timestamp': option(datetime),
});

export const pathFlags = flags('symlink-follow');
export const openFlags = flags('create', 'directory', 'exclusive', 'truncate');

export const newTimestamp = variant({ 'no-change': undefined, now: undefined, timestamp: datetime });

export const directoryEntry = record({ type: descriptorType, name: string });

export const errorCode = enumeration(
  'access',
  'would-block',
  'already',
  'bad-descriptor',
  'busy',
  'deadlock',
  'quota',
  'exist',
  'file-too-large',
  'illegal-byte-sequence',
  'in-progress',
  'interrupted',
  'invalid',
  'io',
  'is-directory',
  'loop',
  'too-many-links',
  'message-size',
  'name-too-long',
  'no-device',
  'no-entry',
  'no-lock',
  'insufficient-memory',
  'insufficient-space',
  'not-directory',
  'not-empty',
  'not-recoverable',
  'unsupported',
  'no-tty',
  'no-such-device',
  'overflow',
  'not-permitted',
  'pipe',
  'read-only',
  'invalid-seek',
  'text-file-busy',
  'cross-device',
);

export const advice = enumeration('normal', 'sequential', 'random', 'will-need', 'dont-need', 'no-reuse');

export const metadataHashValue = record({ lower: u64, upper: u64 });

/** Most descriptor methods return result<T, error-code>. */
const orError = (ok?: Parameters<typeof result>[0]) => result(ok, errorCode);

export const typesInterface = defineInterface(TYPES, {
  resources: [
    resourceDef(descriptor, {
      'read-via-stream': func({ offset: filesize }, orError(own(inputStream))),
      'write-via-stream': func({ offset: filesize }, orError(own(outputStream))),
      'append-via-stream': func({}, orError(own(outputStream))),
      advise: func({ offset: filesize, length: filesize, advice }, orError()),
      'sync-data': func({}, orError()),
      'get-flags': func({}, orError(descriptorFlags)),
      'get-type': func({}, orError(descriptorType)),
      'set-size': func({ size: filesize }, orError()),
      'set-times': func(
        { 'data-access-timestamp': newTimestamp, 'data-modification-timestamp': newTimestamp },
        orError(),
      ),
      read: func({ length: filesize, offset: filesize }, orError(tuple(list(u8), bool))),
      write: func({ buffer: list(u8), offset: filesize }, orError(filesize)),
      'read-directory': func({}, orError(own(directoryEntryStream))),
      sync: func({}, orError()),
      'create-directory-at': func({ path: string }, orError()),
      stat: func({}, orError(descriptorStat)),
      'stat-at': func({ 'path-flags': pathFlags, path: string }, orError(descriptorStat)),
      'set-times-at': func(
        {
          'path-flags': pathFlags,
          path: string,
          'data-access-timestamp': newTimestamp,
          'data-modification-timestamp': newTimestamp,
        },
        orError(),
      ),
      'link-at': func(
        { 'old-path-flags': pathFlags, 'old-path': string, 'new-descriptor': borrow(descriptor), 'new-path': string },
        orError(),
      ),
      'open-at': func(
        { 'path-flags': pathFlags, path: string, 'open-flags': openFlags, flags: descriptorFlags },
        orError(own(descriptor)),
      ),
      'readlink-at': func({ path: string }, orError(string)),
      'remove-directory-at': func({ path: string }, orError()),
      'rename-at': func({ 'old-path': string, 'new-descriptor': borrow(descriptor), 'new-path': string }, orError()),
      'symlink-at': func({ 'old-path': string, 'new-path': string }, orError()),
      'unlink-file-at': func({ path: string }, orError()),
      'is-same-object': func({ other: borrow(descriptor) }, bool),
      'metadata-hash': func({}, orError(metadataHashValue)),
      'metadata-hash-at': func({ 'path-flags': pathFlags, path: string }, orError(metadataHashValue)),
    }),
    resourceDef(directoryEntryStream, {
      'read-directory-entry': func({}, orError(option(directoryEntry))),
    }),
  ],
  functions: {
    'filesystem-error-code': func({ err: borrow(error) }, option(errorCode)),
  },
});

export const preopensInterface = defineInterface('wasi:filesystem/preopens', {
  functions: { 'get-directories': func({}, list(tuple(own(descriptor), string))) },
});
