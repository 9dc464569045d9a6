import { invalid } from '../inputs/parse.js';

/**
 * `parallel`: how many hosts change at once, as a number (`2`) or a share of the fleet
 * (`50%`, rounded up, at least one host). Default 1: one host at a time.
 */
export function parseParallel(raw: string, hostCount: number): number {
  const text = raw.trim();
  if (text === '') return 1;
  const percent = /^(\d{1,3})%$/.exec(text);
  if (percent) {
    const share = Number(percent[1]);
    if (share < 1 || share > 100) throw invalid('parallel', "must be a number of hosts like '2' or a share like '50%' (1-100%)", raw);
    return Math.max(1, Math.ceil((hostCount * share) / 100));
  }
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1) throw invalid('parallel', "must be a number of hosts like '2' or a share like '50%' (1-100%)", raw);
  return Math.min(Number(text), Math.max(hostCount, 1));
}

/** Splits `items` into consecutive batches of `size` (the last may be smaller). */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
