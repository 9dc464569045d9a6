import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CompletedPart, PartRequests, PartUploader } from '../../src/backup/part-upload.js';
import { chunked } from '../harness/streams.js';

// The uploader's own logic (buffers, order, back-pressure, aborts) against an in-memory
// recorder of the S3 requests it makes; the real requests against s3rver are in
// test/integration/backup.test.ts.

const PART = 64 * 1024;
const BUFFERS = 3;

/** Records what an S3 store would receive; each part is read when its request settles, so a buffer reused too early shows. */
class Recorder implements PartRequests {
  readonly calls: string[] = [];
  readonly parts = new Map<number, Buffer>();
  readonly arrayBuffers = new Set<ArrayBufferLike>();
  whole: Buffer | undefined;
  completed: readonly CompletedPart[] | undefined;
  aborted: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Each part request waits for this before it settles. */
  gate: Promise<void> = Promise.resolve();
  failPart: number | undefined;

  async put(body: Buffer): Promise<void> {
    this.calls.push(`put ${body.length}`);
    this.whole = Buffer.from(body);
  }

  async create(): Promise<string> {
    this.calls.push('create');
    return 'upload-1';
  }

  async part(uploadId: string, partNumber: number, body: Buffer, signal: AbortSignal): Promise<string> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.arrayBuffers.add(body.buffer);
    try {
      await this.gate;
      await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) throw new Error('aborted');
      if (partNumber === this.failPart) throw new Error(`part ${partNumber} refused`);
      this.parts.set(partNumber, Buffer.from(body));
      return `"etag-${uploadId}-${partNumber}"`;
    } finally {
      this.inFlight -= 1;
    }
  }

  async complete(_uploadId: string, parts: readonly CompletedPart[]): Promise<void> {
    this.calls.push('complete');
    this.completed = parts;
  }

  async abort(uploadId: string): Promise<void> {
    this.aborted.push(uploadId);
  }

  object(): Buffer {
    return Buffer.concat([...this.parts.keys()].sort((a, b) => a - b).map((n) => this.parts.get(n)!));
  }
}

const upload = (recorder: Recorder, source: Readable) => pipeline(source, new PartUploader(recorder, PART, BUFFERS));

describe('the part uploader: a fixed set of part buffers, reused', () => {
  test('a stream of many parts arrives whole and in order, through at most three buffers', async () => {
    const data = randomBytes(PART * 20 + 12_345);
    const recorder = new Recorder();
    const uploader = new PartUploader(recorder, PART, BUFFERS);
    await pipeline(chunked(data, 10_000), uploader);
    expect(recorder.calls).toEqual(['create', 'complete']);
    expect(recorder.completed!.map((p) => p.PartNumber)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(recorder.completed![0]!.ETag).toBe('"etag-upload-1-1"');
    expect(recorder.object().equals(data)).toBe(true);
    expect(uploader.buffersAllocated).toBe(BUFFERS);
    expect(recorder.arrayBuffers.size).toBeLessThanOrEqual(BUFFERS);
    expect(recorder.maxInFlight).toBeLessThanOrEqual(BUFFERS);
    expect(recorder.aborted).toEqual([]);
  });

  test('chunks larger than a part, and a size that is a whole number of parts: no empty last part', async () => {
    const data = randomBytes(PART * 4);
    const recorder = new Recorder();
    await upload(recorder, chunked(data, PART * 2 + 7));
    expect(recorder.completed!.map((p) => p.PartNumber)).toEqual([1, 2, 3, 4]);
    expect(recorder.object().equals(data)).toBe(true);
  });

  test('what fits in one part is stored with one request; an empty stream too', async () => {
    const small = randomBytes(PART - 1);
    const recorder = new Recorder();
    await upload(recorder, chunked(small, 5000));
    expect(recorder.calls).toEqual([`put ${PART - 1}`]);
    expect(recorder.whole!.equals(small)).toBe(true);

    const empty = new Recorder();
    await upload(empty, Readable.from([]));
    expect(empty.calls).toEqual(['put 0']);
  });

  test('back-pressure: while every buffer is uploading, the source is not read further', async () => {
    const recorder = new Recorder();
    let release!: () => void;
    recorder.gate = new Promise((resolve) => (release = resolve));
    let produced = 0;
    const total = PART * 12;
    const source = new Readable({
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        produced += 4096;
        this.push(Buffer.alloc(4096, produced % 251));
      },
    });
    const uploader = new PartUploader(recorder, PART, BUFFERS);
    const done = pipeline(source, uploader);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Three parts uploading, plus what the two streams' own buffers hold (their highWaterMarks:
    // 16 KiB each before Node 22, 64 KiB since) and the chunk being pushed.
    expect(recorder.inFlight).toBe(BUFFERS);
    expect(produced).toBeLessThanOrEqual(BUFFERS * PART + source.readableHighWaterMark + uploader.writableHighWaterMark + 4096);
    release();
    await done;
    expect(produced).toBe(total);
    expect(recorder.object().length).toBe(total);
  });

  test('a refused part aborts the multipart upload: the error comes out, nothing is completed', async () => {
    const recorder = new Recorder();
    recorder.failPart = 3;
    await expect(upload(recorder, chunked(randomBytes(PART * 10), 8192))).rejects.toThrow('part 3 refused');
    expect(recorder.calls).toEqual(['create']);
    expect(recorder.aborted).toEqual(['upload-1']);
    expect(recorder.inFlight).toBe(0);
  });

  test('the source failing mid-stream aborts the upload too', async () => {
    const recorder = new Recorder();
    const source = Readable.from(
      (async function* () {
        for (let i = 0; i < 5; i += 1) {
          yield randomBytes(PART);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        throw new Error('the dump broke off');
      })(),
    );
    await expect(upload(recorder, source)).rejects.toThrow('the dump broke off');
    expect(recorder.calls).toEqual(['create']);
    expect(recorder.parts.size).toBeGreaterThan(0);
    expect(recorder.aborted).toEqual(['upload-1']);
  });
});
