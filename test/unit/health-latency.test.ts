import { latencyFailure, percentile } from '../../src/health/latency.js';

describe('percentiles of round trips (nearest rank)', () => {
  test('none for no values; the value itself for one', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([42], 50)).toBe(42);
    expect(percentile([42], 95)).toBe(42);
  });

  test('every percentile is a round trip that happened, whatever the order', () => {
    expect(percentile([30, 10, 20], 50)).toBe(20);
    expect(percentile([30, 10, 20], 95)).toBe(30);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  test('p95 of twenty: one slow request in twenty stays below it, two do not', () => {
    const fast = Array.from({ length: 19 }, () => 10);
    expect(percentile([...fast, 900], 95)).toBe(10);
    expect(percentile([...fast.slice(1), 900, 900], 95)).toBe(900);
  });

  test('the latency verdict in words', () => {
    expect(latencyFailure(812, 500)).toBe('p95 latency 812ms above max-latency 500ms');
    expect(latencyFailure(500, 500)).toBe('');
    expect(latencyFailure(812, undefined)).toBe('');
    expect(latencyFailure(undefined, 500)).toBe('');
  });
});
