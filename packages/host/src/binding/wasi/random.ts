/** wasi:random@0.2 (random, insecure, insecure-seed). */
import { list, tuple, u64, u8 } from '../canon.js';
import { defineInterface, func } from '../wit.js';

export const randomInterface = defineInterface('wasi:random/random', {
  functions: {
    'get-random-bytes': func({ len: u64 }, list(u8)),
    'get-random-u64': func({}, u64),
  },
});

export const insecureInterface = defineInterface('wasi:random/insecure', {
  functions: {
    'get-insecure-random-bytes': func({ len: u64 }, list(u8)),
    'get-insecure-random-u64': func({}, u64),
  },
});

export const insecureSeedInterface = defineInterface('wasi:random/insecure-seed', {
  functions: { 'insecure-seed': func({}, tuple(u64, u64)) },
});
