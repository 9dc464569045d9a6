import { Readable } from 'node:stream';

/** Everything a stream yields, once it ends (rejects on its error). */
export function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** `data` as a stream of chunks of `size` bytes (the last one shorter). */
export const chunked = (data: Buffer, size = 10_000): Readable =>
  Readable.from(Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size)));
