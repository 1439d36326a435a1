/** The real JavaScript artifact (its main module imports wasi:io directly) on our binding. */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTestGuest, start, type Running } from './guests.js';

describe('the JavaScript guest on our binding', () => {
  let js: Running;
  beforeAll(async () => {
    js = start(await loadTestGuest('javascript'));
  });

  it('evaluates and keeps globals between calls', () => {
    expect(js.binding.eval('1+1')).toEqual({ ok: true, value: '2' });
    expect(js.binding.exec('var greeting = "hello"')).toEqual({ ok: true });
    expect(js.binding.eval('greeting.toUpperCase()')).toEqual({ ok: true, value: '"HELLO"' });
  });

  it('captures console output', () => {
    js.stdout.take();
    expect(js.binding.exec('console.log("out", 1); console.error("err", 2)')).toEqual({ ok: true });
    expect(js.stdout.take().text).toBe('out 1\n');
    expect(js.stderr.take().text).toBe('err 2\n');
  });

  it('returns a thrown error as its message', () => {
    const result = js.binding.exec('throw new RangeError("boom")');
    expect(result).toMatchObject({ ok: false, error: expect.stringContaining('RangeError: boom') });
    expect(js.binding.eval('nope')).toMatchObject({ ok: false, error: expect.stringContaining('ReferenceError') });
  });

  it('reads the clocks and random numbers', () => {
    expect(js.binding.eval('Date.now() > 1.7e12')).toEqual({ ok: true, value: 'true' });
    const r = js.binding.eval('Math.random()');
    expect(r.ok && Number(r.value) < 1).toBe(true);
  });
});
