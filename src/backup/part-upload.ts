import { Writable } from 'node:stream';
import { OperationError } from '../errors.js';

/**
 * A stream into one S3 object, uploaded in parts from a fixed set of part buffers.
 *
 * Why not `@aws-sdk/lib-storage`'s `Upload`: it cuts a stream into parts with `Buffer.concat`,
 * a new part-sized allocation for every part, and it has no way to be handed buffers or to say
 * when a part's buffer is free again. Those allocations live as long as their upload and are
 * freed only when V8 gets round to a full collection, so the process's memory grew with the
 * size of the dump (bench/NOTES.md). Here `buffers` buffers of `partSize` bytes are allocated
 * once (lazily: a small dump uses one) and reused: incoming chunks are copied into the buffer
 * being filled; a full one is sent with UploadPart while the next fills; when every buffer is
 * uploading, `write` waits for one to come back, which holds back the stream that feeds this
 * (and through it the SSH channel, whose window stops the dump on the host). Memory is
 * `buffers x partSize` whatever the size of the dump.
 *
 * An object that fits in the first part is stored with one PutObject. Any error (a part, the
 * feeding stream) aborts the multipart upload, so no object and no orphaned parts are left.
 */

export interface CompletedPart {
  readonly PartNumber: number;
  readonly ETag: string;
}

/** The S3 requests the uploader makes, bound to one bucket and key (storage.ts). */
export interface PartRequests {
  /** Stores the whole object in one request. */
  put(body: Buffer, signal: AbortSignal): Promise<void>;
  /** Starts a multipart upload; its UploadId. */
  create(): Promise<string>;
  /** Uploads one part; its ETag. `body` must not be touched until this settles. */
  part(uploadId: string, partNumber: number, body: Buffer, signal: AbortSignal): Promise<string>;
  complete(uploadId: string, parts: readonly CompletedPart[]): Promise<void>;
  abort(uploadId: string): Promise<void>;
}

/** S3 allows 10,000 parts per object. */
export const MAX_PARTS = 10_000;

export class PartUploader extends Writable {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  /** The buffer being filled, and how much of it is. */
  private current: Buffer | undefined;
  private filled = 0;
  private parts = 0;
  private uploadId: Promise<string> | undefined;
  private readonly uploading = new Set<Promise<void>>();
  private readonly uploaded: CompletedPart[] = [];
  private readonly cancel = new AbortController();
  private failure: Error | undefined;
  private stored = false;
  /** How many distinct part buffers were ever allocated (at most `buffers`). */
  get buffersAllocated(): number {
    return this.allocated;
  }

  constructor(
    private readonly requests: PartRequests,
    private readonly partSize: number,
    private readonly buffers: number,
  ) {
    super();
    if (buffers < 2) throw new Error('PartUploader needs at least two buffers: one filling while one uploads');
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // The common case, a chunk that fits in the buffer being filled, is copied at once.
    if (this.current && !this.failure && this.filled + chunk.length < this.partSize) {
      chunk.copy(this.current, this.filled);
      this.filled += chunk.length;
      callback();
      return;
    }
    this.fill(chunk).then(() => callback(), callback);
  }

  private async fill(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      this.current ??= await this.freeBuffer();
      const copied = chunk.copy(this.current, this.filled, offset);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.partSize) this.send();
    }
  }

  /** A buffer to fill: a returned one, a new one while fewer than `buffers` exist, or the first to come back from its upload. */
  private async freeBuffer(): Promise<Buffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      const buffer = this.free.pop();
      if (buffer) return buffer;
      if (this.allocated < this.buffers) {
        this.allocated += 1;
        return Buffer.allocUnsafeSlow(this.partSize);
      }
      await Promise.race(this.uploading);
    }
  }

  /** Uploads the buffer being filled as the next part; the buffer comes back to `free` when that settles. */
  private send(): void {
    const buffer = this.current!;
    const body = this.filled === buffer.length ? buffer : buffer.subarray(0, this.filled);
    this.current = undefined;
    this.filled = 0;
    this.parts += 1;
    const partNumber = this.parts;
    if (partNumber > MAX_PARTS) {
      this.free.push(buffer);
      this.failure ??= new OperationError(
        `The backup is larger than one S3 object can be when uploaded in parts of ${this.partSize / 1024 / 1024} MiB (${MAX_PARTS} parts, ${Math.floor((this.partSize * MAX_PARTS) / 1024 ** 3)} GiB).`,
      );
      return;
    }
    const upload = (async () => {
      try {
        this.uploadId ??= this.requests.create();
        const ETag = await this.requests.part(await this.uploadId, partNumber, body, this.cancel.signal);
        this.uploaded.push({ PartNumber: partNumber, ETag });
      } catch (error) {
        this.fail(error);
      } finally {
        this.free.push(buffer);
      }
    })();
    const tracked: Promise<void> = upload.finally(() => this.uploading.delete(tracked));
    this.uploading.add(tracked);
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.destroy(this.failure);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finish().then(() => callback(), callback);
  }

  private async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.parts === 0) {
      await this.requests.put(this.current ? this.current.subarray(0, this.filled) : Buffer.alloc(0), this.cancel.signal);
      this.stored = true;
      return;
    }
    if (this.filled > 0) this.send();
    while (this.uploading.size > 0) await Promise.all(this.uploading);
    if (this.failure) throw this.failure;
    const parts = [...this.uploaded].sort((a, b) => a.PartNumber - b.PartNumber);
    await this.requests.complete(await this.uploadId!, parts);
    this.stored = true;
  }

  /** On any error: cancels the parts still uploading, waits for them, and aborts the multipart upload. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.stored || !this.uploadId) {
      callback(error);
      return;
    }
    this.cancel.abort();
    const uploadId = this.uploadId;
    void (async () => {
      while (this.uploading.size > 0) await Promise.all(this.uploading);
      const id = await uploadId.catch(() => undefined);
      if (id) await this.requests.abort(id).catch(() => undefined);
    })().then(() => callback(error));
  }
}
