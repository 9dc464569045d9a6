import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { OperationError, errorMessage } from '../errors.js';
import { PartRequests, PartUploader } from './part-upload.js';
import type { ListedObject } from './retention.js';
import type { Destination, S3Settings } from './settings.js';

/**
 * The S3 side: one bucket of an S3-compatible store (AWS, MinIO, B2, Spaces, R2...). The
 * credentials stay here, on the runner. Errors come out as OperationErrors that say which
 * input to look at.
 */

/**
 * Parts of 8 MiB in three buffers, reused (part-upload.ts): two uploading while the third
 * fills, 24 MiB of part memory whatever the size of the dump; objects up to 78 GiB (10,000
 * parts), as the aws CLI's default part size allows.
 */
const PART_SIZE = 8 * 1024 * 1024;
const PART_BUFFERS = 3;
const CONTENT_TYPE = 'application/octet-stream';

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

  /**
   * Streams `body` into `key` in parts; an error of `body` or of the store aborts the upload
   * (no object is left). Errors of the store come out as OperationErrors; those of `body` as they are.
   */
  async upload(key: string, body: Readable): Promise<void> {
    await pipeline(body, new PartUploader(this.partRequests(key), PART_SIZE, PART_BUFFERS));
  }

  private partRequests(key: string): PartRequests {
    const object = { Bucket: this.destination.bucket, Key: key };
    const call = <T>(fn: () => Promise<T>) => this.call('upload', key, fn);
    return {
      put: (body, abortSignal) =>
        call(() => this.client.send(new PutObjectCommand({ ...object, Body: body, ContentLength: body.length, ContentType: CONTENT_TYPE, ...this.sse() }), { abortSignal })).then(() => undefined),
      create: () =>
        call(async () => {
          const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ ...object, ContentType: CONTENT_TYPE, ...this.sse() }));
          if (!UploadId) throw new OperationError(`S3 started no multipart upload for ${this.describe(key)} (no UploadId in its answer).`);
          return UploadId;
        }),
      part: (UploadId, PartNumber, body, abortSignal) =>
        call(async () => {
          const { ETag } = await this.client.send(new UploadPartCommand({ ...object, UploadId, PartNumber, Body: body, ContentLength: body.length }), { abortSignal });
          if (!ETag) throw new OperationError(`S3 answered part ${PartNumber} of ${this.describe(key)} without an ETag.`);
          return ETag;
        }),
      complete: (UploadId, parts) =>
        call(() => this.client.send(new CompleteMultipartUploadCommand({ ...object, UploadId, MultipartUpload: { Parts: [...parts] } }))).then(() => undefined),
      abort: (UploadId) => this.client.send(new AbortMultipartUploadCommand({ ...object, UploadId })).then(() => undefined),
    };
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
