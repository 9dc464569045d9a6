import { createHash } from 'node:crypto';
import { Readable, Transform, TransformCallback, pipeline } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import * as zlib from 'node:zlib';
import { Decrypter, Encrypter } from 'age-encryption';
import { ConfigurationError, OperationError, errorMessage } from '../errors.js';
import type { Compression } from './settings.js';

/**
 * The runner's half of a backup, as stream stages: compression (gzip, zstd), age encryption,
 * and the meters that count and hash what passes. Each stage holds a bounded buffer, so a
 * dump of any size streams through in flat memory, and nothing is written to disk.
 */

/** Whether this Node has zstd in node:zlib (Node >= 22.15 / 23.8; the action runs on node24). */
export const zstdAvailable = (): boolean => typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';

/** Throws a ConfigurationError when this runner cannot do `compression`. */
export function requireCodec(compression: Compression): void {
  if (compression === 'zstd') requireZstd();
}

function requireZstd(): void {
  if (!zstdAvailable()) {
    throw new ConfigurationError(`'compression: zstd' needs Node.js 22.15 or newer (zstd in node:zlib); this runner has ${process.version}. Use 'compression: gzip'.`);
  }
}

/**
 * The compression stage. With `alreadyCompressed` (pg_dump's custom format: pg_dump deflates the
 * table data itself), a second full pass would cost about a third of a core for the whole dump
 * and save nothing (the same size to 0.1%), so gzip only frames it (stored blocks, level 0) and
 * zstd uses level 1. The object is a gzip or zstd file either way.
 */
export function compressor(compression: Compression, alreadyCompressed = false): Transform | undefined {
  switch (compression) {
    case 'gzip':
      return zlib.createGzip({ level: alreadyCompressed ? 0 : 6 });
    case 'zstd':
      requireZstd();
      return zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: alreadyCompressed ? 1 : 6 } });
    case 'none':
      return undefined;
  }
}

export function decompressor(compression: Compression): Transform | undefined {
  switch (compression) {
    case 'gzip':
      return zlib.createGunzip();
    case 'zstd':
      requireZstd();
      return zlib.createZstdDecompress();
    case 'none':
      return undefined;
  }
}

/** Checks age recipients (`age1...`) without encrypting anything: throws a ConfigurationError naming the bad one. */
export function checkRecipients(recipients: readonly string[]): void {
  for (const recipient of recipients) {
    try {
      new Encrypter().addRecipient(recipient);
    } catch (error) {
      throw new ConfigurationError(`Input 'encryption-recipients' holds '${recipient.slice(0, 12)}...', which is not an age public key (age1...): ${errorMessage(error)}.`);
    }
  }
}

export function checkIdentity(identity: string): void {
  try {
    new Decrypter().addIdentity(identity);
  } catch {
    throw new ConfigurationError("Input 'encryption-identity' must be an age private key ('AGE-SECRET-KEY-1...', as age-keygen prints it).");
  }
}

const toWeb = (input: Readable) => Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
const fromWeb = (output: ReadableStream<Uint8Array>) => Readable.fromWeb(output as unknown as WebReadableStream<Uint8Array>);

/** Encrypts `input` for the recipients (age v1 format, as `age -r` writes it). */
export async function encryptStream(input: Readable, recipients: readonly string[]): Promise<Readable> {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  return fromWeb(await encrypter.encrypt(toWeb(input)));
}

/** Decrypts `input`; resolves once the header was read, so a wrong identity fails before any plaintext flows. */
export async function decryptStream(input: Readable, identity: string): Promise<Readable> {
  const decrypter = new Decrypter();
  decrypter.addIdentity(identity);
  try {
    return fromWeb(await decrypter.decrypt(toWeb(input)));
  } catch (error) {
    input.destroy();
    if (error instanceof OperationError) throw error;
    if (/no identity matched/i.test(errorMessage(error))) {
      throw new OperationError("The backup is encrypted for other keys: 'encryption-identity' matches none of its age recipients.");
    }
    throw new OperationError(`Cannot decrypt the backup: ${errorMessage(error)}.`);
  }
}

/** Counts the bytes that pass, and hashes them (SHA-256) when asked. */
export class Meter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  /** Hex digest; call once, after the stream ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Passes data through, but ends only once `check` resolves; its rejection becomes the stream's error. */
export class EndGate extends Transform {
  constructor(private readonly check: () => Promise<void>) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.check().then(() => callback(), (error: Error) => callback(error));
  }
}

/**
 * Hashes what passes and holds back the last `holdBytes` until the whole input was seen and
 * matched `expected`: what comes after (decryption, decompression, pg_restore) never gets
 * the end of a stream that is not the stored backup, so a restore of it cannot complete.
 */
export class ChecksumGuard extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(
    private readonly expected: { readonly sha256: string; readonly bytes: number },
    private readonly describe: string,
    private readonly holdBytes = 256 * 1024,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    while (this.held.length > 0 && this.heldBytes - this.held[0]!.length >= this.holdBytes) {
      const release = this.held.shift()!;
      this.heldBytes -= release.length;
      this.push(release);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const sha256 = this.hash.digest('hex');
    if (this.bytes !== this.expected.bytes || sha256 !== this.expected.sha256) {
      callback(
        new OperationError(
          `${this.describe} does not match its manifest: ${this.bytes} bytes with sha256 ${sha256}, the manifest says ${this.expected.bytes} bytes with sha256 ${this.expected.sha256}. It was not restored.`,
        ),
      );
      return;
    }
    for (const chunk of this.held) this.push(chunk);
    this.held = [];
    callback();
  }
}

/**
 * Connects stages like `pipeline`, returning the last one to read from. The first error of
 * any stage destroys them all and is handed to `onError`.
 */
export function chain(streams: readonly (Readable | Transform)[], onError: (error: Error) => void): Readable {
  if (streams.length === 1) {
    streams[0]!.once('error', onError);
    return streams[0]!;
  }
  return pipeline(streams as unknown as [Readable, Transform], (error) => {
    if (error) onError(error);
  }) as unknown as Readable;
}
