/** wasi:clocks@0.2 (monotonic-clock, wall-clock). */
import { own, record, u32, u64 } from '../canon.js';
import { defineInterface, func } from '../wit.js';
import { pollable } from './io.js';

const instant = u64;
const duration = u64;

export const datetime = record({ seconds: u64, nanoseconds: u32 });

export const monotonicClockInterface = defineInterface('wasi:clocks/monotonic-clock', {
  functions: {
    now: func({}, instant),
    resolution: func({}, duration),
    'subscribe-instant': func({ when: instant }, own(pollable)),
    'subscribe-duration': func({ when: duration }, own(pollable)),
  },
});

export const wallClockInterface = defineInterface('wasi:clocks/wall-clock', {
  functions: {
    now: func({}, datetime),
    resolution: func({}, datetime),
  },
});
