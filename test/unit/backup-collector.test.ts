import { randomBytes } from 'node:crypto';
import { chunked, readAll } from '../harness/streams.js';
import { Collector, fullCollector } from '../../src/backup/collector.js';

const MiB = 1024 * 1024;

describe('the collector: a GC every N MiB while the dump streams', () => {
  test('collects once per N MiB that pass and hands the data on unchanged', async () => {
    const data = randomBytes(10 * MiB + 12_345);
    let calls = 0;
    const collector = new Collector(MiB, () => (calls += 1));
    const out = await readAll(chunked(data, 64 * 1024).pipe(collector));
    expect(out.equals(data)).toBe(true);
    expect(calls).toBe(10);
    expect(collector.collections).toBe(10);
  });

  test('chunks that do not divide N still collect once per N bytes', async () => {
    let calls = 0;
    const collector = new Collector(4 * MiB, () => (calls += 1));
    await readAll(chunked(randomBytes(17 * MiB), 100_000).pipe(collector));
    expect(calls).toBe(4);
  });

  test('without a gc it is a plain pass-through', async () => {
    const data = randomBytes(3 * MiB);
    const collector = new Collector(MiB, undefined);
    expect((await readAll(chunked(data, 32 * 1024).pipe(collector))).equals(data)).toBe(true);
    expect(collector.collections).toBe(0);
  });

  test('on this Node, gc is obtained at run time and a full collection runs', () => {
    const gc = fullCollector();
    expect(typeof gc).toBe('function');
    expect(() => gc!()).not.toThrow();
    expect(fullCollector()).toBe(gc);
  });
});
