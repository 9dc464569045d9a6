import { createHash, randomBytes } from 'node:crypto';
import { chunked, readAll } from '../harness/streams.js';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { ChecksumGuard, EndGate, Meter, chain, checkIdentity, checkRecipients, compressor, decompressor, decryptStream, encryptStream, zstdAvailable } from '../../src/backup/codec.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('stream stages', () => {
  const data = randomBytes(300_000);

  test('gzip round-trip through compressor and decompressor; the meter counts and hashes what passes', async () => {
    const meter = new Meter();
    const packed = await readAll(chain([chunked(data), compressor('gzip')!, meter], (e) => { throw e; }));
    expect(meter.bytes).toBe(packed.length);
    expect(meter.digest()).toBe(sha256(packed));
    expect((await readAll(chain([chunked(packed), decompressor('gzip')!], (e) => { throw e; }))).equals(data)).toBe(true);
    expect(compressor('none')).toBeUndefined();
  });

  test('data compressed already (pg_dump custom format) is framed as gzip without a second deflate pass, and reads back the same', async () => {
    const text = Buffer.from('create table shop (id int);\n'.repeat(20_000));
    const framed = await readAll(chain([chunked(text), compressor('gzip', true)!], (e) => { throw e; }));
    const squeezed = await readAll(chain([chunked(text), compressor('gzip')!], (e) => { throw e; }));
    // Stored blocks: about the input's size, where a real pass shrinks this text a hundredfold.
    expect(framed.length).toBeGreaterThan(text.length);
    expect(squeezed.length).toBeLessThan(text.length / 100);
    expect((await readAll(chain([chunked(framed), decompressor('gzip')!], (e) => { throw e; }))).equals(text)).toBe(true);
  });

  test('zstd is there on Node >= 22.15, and refused with a clear error before', () => {
    if (zstdAvailable()) expect(compressor('zstd')).toBeDefined();
    else expect(() => compressor('zstd')).toThrow(/'compression: zstd' needs Node.js 22.15 or newer/);
  });

  test('age: what encryptStream writes only the identity reads; another identity is told so', async () => {
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const sealed = await readAll(await encryptStream(chunked(data), [recipient]));
    expect(sealed.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(sealed.includes(data.subarray(0, 64))).toBe(false);
    expect((await readAll(await decryptStream(chunked(sealed), identity))).equals(data)).toBe(true);
    await expect(decryptStream(chunked(sealed), await generateIdentity())).rejects.toThrow(
      "The backup is encrypted for other keys: 'encryption-identity' matches none of its age recipients.",
    );
  });

  test('age keys are checked when the inputs are read', async () => {
    const recipient = await identityToRecipient(await generateIdentity());
    expect(() => checkRecipients([recipient])).not.toThrow();
    expect(() => checkRecipients(['age1notakey'])).toThrow(/Input 'encryption-recipients' holds 'age1notakey\.\.\.', which is not an age public key/);
    const identity = await generateIdentity();
    expect(() => checkIdentity(identity)).not.toThrow();
    expect(() => checkIdentity('AGE-SECRET-KEY-1NOPE')).toThrow(/must be an age private key/);
    expect(() => checkIdentity('ssh-ed25519 AAAA')).toThrow("Input 'encryption-identity' must be an age private key ('AGE-SECRET-KEY-1...', as age-keygen prints it).");
  });

  test('the end gate lets the data through but ends only when its check passes', async () => {
    expect((await readAll(chain([chunked(data), new EndGate(async () => undefined)], () => undefined))).equals(data)).toBe(true);
    const failing = chain([chunked(data), new EndGate(async () => Promise.reject(new Error('pg_dump failed (exit 1)')))], () => undefined);
    await expect(readAll(failing)).rejects.toThrow('pg_dump failed (exit 1)');
  });
});

describe('the checksum guard', () => {
  const data = randomBytes(1_000_000);
  const expected = { sha256: sha256(data), bytes: data.length };

  test('passes a matching stream through whole', async () => {
    expect((await readAll(chain([chunked(data), new ChecksumGuard(expected, 'x')], () => undefined))).equals(data)).toBe(true);
  });

  test('a mismatch fails the stream before its last bytes are let through', async () => {
    const tampered = Buffer.from(data);
    tampered[500_000] = tampered[500_000]! ^ 1;
    const guard = new ChecksumGuard(expected, 's3://backups/db/x.pgdump.gz', 256 * 1024);
    const seen: Buffer[] = [];
    const out = chain([chunked(tampered), guard], () => undefined);
    out.on('data', (chunk: Buffer) => seen.push(chunk));
    await expect(new Promise((resolve, reject) => out.on('end', resolve).on('error', reject))).rejects.toThrow(
      /^s3:\/\/backups\/db\/x\.pgdump\.gz does not match its manifest: 1000000 bytes with sha256 [0-9a-f]{64}, the manifest says 1000000 bytes with sha256 [0-9a-f]{64}\. It was not restored\.$/,
    );
    const released = Buffer.concat(seen).length;
    expect(released).toBeLessThanOrEqual(data.length - 256 * 1024);
  });

  test('a short stream is a mismatch too', async () => {
    await expect(readAll(chain([chunked(data.subarray(0, 1000)), new ChecksumGuard(expected, 'k')], () => undefined))).rejects.toThrow(/1000 bytes with sha256/);
  });
});
