import { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { OperationError, errorMessage } from '../errors.js';
import type { ListedObject } from './retention.js';
import type { Destination, S3Settings } from './settings.js';

/**
 * The S3 side: one bucket of an S3-compatible store (AWS, MinIO, B2, Spaces, R2...). The
 * credentials stay here, on the runner. Errors come out as OperationErrors that say which
 * input to look at.
 */

/**
 * Parts of 5 MiB (S3's minimum), two in flight: at most ~15 MiB buffered, objects up to
 * ~48 GiB (10,000 parts). Smaller parts keep the peak RSS flat together with the collector
 * (collector.ts); 8 MiB parts grew it with the size of the dump.
 */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;

export class BackupStore {
  private readonly client: S3Client;

  constructor(
    private readonly settings: S3Settings,
    readonly destination: Destination,
  ) {
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle,
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      maxAttempts: 3,
      // S3-compatible stores do not all accept the SDK's newer default checksums (aws-chunked
      // trailers); integrity is ours anyway: the manifest's sha256 of the whole object.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    });
  }

  /** `s3://bucket/key` (and the endpoint when not AWS), for logs and errors. */
  describe(key = ''): string {
    return `s3://${this.destination.bucket}/${key}${this.settings.endpoint ? ` at ${this.settings.endpoint}` : ''}`;
  }

  /** Every object directly in `folder` (not in sub-folders). */
  async list(folder: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('list', `${folder}/`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.destination.bucket, Prefix: `${folder}/`, Delimiter: '/', ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) if (object.Key) objects.push({ key: object.Key, size: object.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /** Streams `body` into `key` with a multipart upload; an error of `body` aborts it (no object is left). */
  async upload(key: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.destination.bucket, Key: key, Body: body, ContentType: 'application/octet-stream', ...this.sse() },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    await this.call('upload', key, () => upload.done());
  }

  async putText(key: string, text: string, contentType: string): Promise<void> {
    await this.call('write', key, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.destination.bucket, Key: key, Body: text, ContentType: contentType, ...this.sse() })),
    );
  }

  /** The object's text, or undefined when there is no such object. */
  async getText(key: string): Promise<string | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.destination.bucket, Key: key }));
      return await object.Body?.transformToString('utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw storageError(error, 'read', this.describe(key));
    }
  }

  async read(key: string): Promise<{ body: Readable; bytes: number }> {
    const object = await this.call('read', key, () => this.client.send(new GetObjectCommand({ Bucket: this.destination.bucket, Key: key })));
    if (!(object.Body instanceof Readable)) throw new OperationError(`${this.describe(key)}: the store sent no body.`);
    return { body: object.Body, bytes: object.ContentLength ?? -1 };
  }

  /** Deletes the keys; returns those the store refused, with why. */
  async delete(keys: readonly string[]): Promise<{ key: string; reason: string }[]> {
    const failed: { key: string; reason: string }[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const result = await this.call('delete', batch[0]!, () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.destination.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      for (const error of result.Errors ?? []) failed.push({ key: error.Key ?? '?', reason: `${error.Code ?? ''} ${error.Message ?? ''}`.trim() });
    }
    return failed;
  }

  close(): void {
    this.client.destroy();
  }

  private sse(): { ServerSideEncryption?: 'AES256' | 'aws:kms' } {
    return this.settings.sse ? { ServerSideEncryption: this.settings.sse } : {};
  }

  private async call<T>(action: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw storageError(error, action, this.describe(key));
    }
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const inner of errors) if (networkCode(inner)) return networkCode(inner);
  }
  return undefined;
}

/** Turns an SDK error into one line that says what to check. Errors deploy-kit raised itself pass through. */
export function storageError(error: unknown, action: string, where: string): Error {
  if (error instanceof OperationError) return error;
  const code = networkCode(error);
  if (code) return new OperationError(`Cannot reach the S3 endpoint for ${where} (${code}). Check 's3-endpoint' and that the store is up.`);
  if ((error as Error)?.name === 'TimeoutError') return new OperationError(`The S3 endpoint did not answer in time (${action} ${where}). Check 's3-endpoint'.`);
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    switch (error.name) {
      case 'InvalidAccessKeyId':
      case 'SignatureDoesNotMatch':
      case 'InvalidClientTokenId':
        return new OperationError(`S3 refused the credentials (${error.name}) to ${action} ${where}. Check 's3-access-key-id' and 's3-secret-access-key'.`);
      case 'AccessDenied':
        return new OperationError(`S3 denied access to ${action} ${where} (AccessDenied). The credentials need s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on the bucket.`);
      case 'NoSuchBucket':
        return new OperationError(`The bucket of ${where} does not exist. Check 'destination' (and 's3-endpoint', 's3-region').`);
      case 'NoSuchKey':
        return new OperationError(`${where} does not exist.`);
      default:
        return new OperationError(`S3 could not ${action} ${where}: ${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`);
    }
  }
  return new OperationError(`S3 could not ${action} ${where}: ${errorMessage(error)}`);
}
