/** wasi:io@0.2 (error, poll, streams). */
import { bool, list, result, string, u32, u64, u8, variant, own, borrow } from '../canon.js';
import { resource } from '../resource-type.js';
import { defineInterface, func, resourceDef } from '../wit.js';

const ERROR = 'wasi:io/error';
const POLL = 'wasi:io/poll';
const STREAMS = 'wasi:io/streams';

export const error = resource(ERROR, 'error');
export const pollable = resource(POLL, 'pollable');
export const inputStream = resource(STREAMS, 'input-stream');
export const outputStream = resource(STREAMS, 'output-stream');

export const errorInterface = defineInterface(ERROR, {
  resources: [resourceDef(error, { 'to-debug-string': func({}, string) })],
});

export const pollInterface = defineInterface(POLL, {
  resources: [resourceDef(pollable, { ready: func({}, bool), block: func() })],
  functions: { poll: func({ in: list(borrow(pollable)) }, list(u32)) },
});

export const streamError = variant({ 'last-operation-failed': own(error), closed: undefined });

const bytes = list(u8);
const unitOrStreamError = result(undefined, streamError);
const countOrStreamError = result(u64, streamError);

export const streamsInterface = defineInterface(STREAMS, {
  resources: [
    resourceDef(inputStream, {
      read: func({ len: u64 }, result(bytes, streamError)),
      'blocking-read': func({ len: u64 }, result(bytes, streamError)),
      skip: func({ len: u64 }, countOrStreamError),
      'blocking-skip': func({ len: u64 }, countOrStreamError),
      subscribe: func({}, own(pollable)),
    }),
    resourceDef(outputStream, {
      'check-write': func({}, countOrStreamError),
      write: func({ contents: bytes }, unitOrStreamError),
      'blocking-write-and-flush': func({ contents: bytes }, unitOrStreamError),
      flush: func({}, unitOrStreamError),
      'blocking-flush': func({}, unitOrStreamError),
      subscribe: func({}, own(pollable)),
      'write-zeroes': func({ len: u64 }, unitOrStreamError),
      'blocking-write-zeroes-and-flush': func({ len: u64 }, unitOrStreamError),
      splice: func({ src: borrow(inputStream), len: u64 }, countOrStreamError),
      'blocking-splice': func({ src: borrow(inputStream), len: u64 }, countOrStreamError),
    }),
  ],
});
