import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createRequire } from 'node:module';

interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverOptions = { address: string; port: number; directory: string; silent: boolean; configureBuckets: { name: string }[] };
// s3rver is CommonJS without type declarations.
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: S3rverOptions) => S3rverServer;

/**
 * s3rver (a real S3-protocol server storing on disk) on 127.0.0.1, a free port and a temp
 * dir, with the bucket `backups`; plus a real S3 client for the test's own looks at it.
 */
export interface S3Fixture {
  readonly endpoint: string;
  readonly bucket: 'backups';
  readonly accessKeyId: 'S3RVER';
  readonly secretAccessKey: 'S3RVER';
  readonly client: S3Client;
  /** Every key in the bucket under `prefix`, sorted. */
  keys(prefix?: string): Promise<string[]>;
  get(key: string): Promise<Buffer>;
  getText(key: string): Promise<string>;
  put(key: string, body: string | Buffer): Promise<void>;
  remove(key: string): Promise<void>;
  stop(): Promise<void>;
}

/** The official S3 client as tests point it at an s3rver endpoint. */
export function s3rverClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The `s3-*` action inputs that reach this endpoint (action-backup's, and action-preview's restore). */
export function s3Inputs(s3: Pick<S3Fixture, 'endpoint' | 'accessKeyId' | 'secretAccessKey'>): Record<string, string> {
  return { 's3-endpoint': s3.endpoint, 's3-access-key-id': s3.accessKeyId, 's3-secret-access-key': s3.secretAccessKey, 's3-force-path-style': 'true' };
}

export async function startS3(): Promise<S3Fixture> {
  const directory = mkdtempSync(join(tmpdir(), 'deploy-kit-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: 'backups' }] });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = s3rverClient(endpoint);
  const bucket = 'backups' as const;
  const get = async (key: string): Promise<Buffer> => {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  };
  return {
    endpoint,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    client,
    async keys(prefix = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    get,
    getText: async (key) => (await get(key)).toString('utf8'),
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async stop() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
