import { Transform, type TransformCallback } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps the backup's resident memory flat, whatever the size of the database.
 *
 * Every byte of a dump passes through a few short-lived Buffers (socket reads, decrypted SSH
 * packets, compressor output) and then into the upload's parts, which live for the seconds
 * their upload takes. V8 frees the native memory behind a Buffer only when a garbage
 * collection finds it dead, and with a JavaScript heap of ~25 MB that happens late: dead
 * Buffers pile up, glibc's heap fragments around them, and the peak RSS grew with the size of
 * the dump (153 MB at 100 MB, 206 MB at 1 GB). A full collection every MiB that passes frees
 * them while they are few: with parts of 5 MiB (storage.ts), 122-136 MB at 100 MB, 400 MB
 * and 1 GB, for about 3-4% of the throughput (bench/NOTES.md, backup-rss). A young-generation
 * collection alone is not enough: the parts outlive it.
 *
 * `gc` is not exposed to an action (the runner starts `node dist/index.js`, no flags), so it
 * is obtained at run time: `--expose-gc` is switched on with `v8.setFlagsFromString`, a new
 * context picks up the `gc` function, and the flag is switched off again. V8 does not promise
 * to honour flags changed after start; where that does not work, the collector is a plain
 * pass-through (a no-op) and the backup runs as before, only with more memory.
 */

export type Collect = () => void;

type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let obtained: Collect | null | undefined;

/** A function that runs a full GC, or undefined where `gc` cannot be had. */
export function fullCollector(): Collect | undefined {
  if (obtained === undefined) obtained = obtainGc() ?? null;
  return obtained ?? undefined;
}

function obtainGc(): Collect | undefined {
  try {
    let gc = (globalThis as { gc?: unknown }).gc;
    if (typeof gc !== 'function') {
      setFlagsFromString('--expose-gc');
      try {
        gc = runInNewContext('typeof gc === "function" ? gc : undefined');
      } finally {
        setFlagsFromString('--no-expose-gc');
      }
    }
    if (typeof gc !== 'function') return undefined;
    const collect = gc as GcFunction;
    return () => collect({ type: 'major' });
  } catch {
    return undefined;
  }
}

/** Passes data through unchanged, and calls `collect` each time another `everyBytes` went by. */
export class Collector extends Transform {
  private sinceCollect = 0;
  collections = 0;

  constructor(
    private readonly everyBytes: number,
    /** What collects; undefined (no gc to be had) makes this a plain pass-through. */
    private readonly collect: Collect | undefined,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.collect) {
      this.sinceCollect += chunk.length;
      if (this.sinceCollect >= this.everyBytes) {
        this.sinceCollect %= this.everyBytes;
        this.collections += 1;
        this.collect();
      }
    }
    callback(null, chunk);
  }
}
