import { MANIFEST_FORMAT, formatManifest, parseManifest } from '../../src/backup/manifest.js';
import { backupFolder, dumpFileName, extension, formatStamp, manifestKey, objectKey, parseBackupName, parseDestination, parseStamp } from '../../src/backup/naming.js';
import { describeDatabase, parsePostgresUrl, withDatabase } from '../../src/backup/postgres-url.js';

describe('backup object names sort by time and read back', () => {
  const at = new Date('2025-01-02T03:04:05.678Z');

  test('timestamps are compact UTC, to the second', () => {
    expect(formatStamp(at)).toBe('20250102T030405Z');
    expect(parseStamp('20250102T030405Z')).toEqual(new Date('2025-01-02T03:04:05Z'));
    expect(parseStamp('20251302T030405Z')).toBeUndefined();
    expect(parseStamp('2025-01-02T03:04:05Z')).toBeUndefined();
  });

  test('<prefix>/<app>/<stamp>-<label>.<kind>[.gz|.zst][.age], manifest beside it', () => {
    const folder = backupFolder({ bucket: 'b', prefix: 'db/prod' }, 'shop');
    expect(folder).toBe('db/prod/shop');
    expect(backupFolder({ bucket: 'b', prefix: '' }, 'shop')).toBe('shop');
    const key = objectKey(folder, { stamp: '20250102T030405Z', label: 'v1.4.2', kind: 'pgdump', compression: 'gzip', encrypted: true });
    expect(key).toBe('db/prod/shop/20250102T030405Z-v1.4.2.pgdump.gz.age');
    expect(manifestKey(key)).toBe('db/prod/shop/20250102T030405Z-v1.4.2.pgdump.gz.age.manifest.json');
    expect(objectKey('shop', { stamp: '20250102T030405Z', label: '4242', kind: 'dump', compression: 'zstd', encrypted: false })).toBe('shop/20250102T030405Z-4242.dump.zst');
    expect(objectKey('shop', { stamp: '20250102T030405Z', label: '4242', kind: 'pgdump', compression: 'none', encrypted: false })).toBe('shop/20250102T030405Z-4242.pgdump');
    expect(dumpFileName('20250102T030405Z', 'v1', 'pgdump')).toBe('20250102T030405Z-v1.pgdump');
    expect(extension('dump', 'none', true)).toBe('dump.age');
  });

  test('names read back, including labels with dots; other names are not ours', () => {
    expect(parseBackupName('20250102T030405Z-v1.4.2.pgdump.gz.age')).toEqual({
      stamp: '20250102T030405Z',
      takenAt: new Date('2025-01-02T03:04:05Z'),
      label: 'v1.4.2',
      kind: 'pgdump',
      compression: 'gzip',
      encrypted: true,
    });
    expect(parseBackupName('20250102T030405Z-4242.dump.zst')).toMatchObject({ label: '4242', kind: 'dump', compression: 'zstd', encrypted: false });
    expect(parseBackupName('20250102T030405Z-4242.pgdump')).toMatchObject({ compression: 'none', encrypted: false });
    for (const other of ['notes.txt', '20250102T030405Z-x.sql.gz', 'x-20250102T030405Z.pgdump', '20250102T030405Z-.pgdump', '20250102T030405Z-a.pgdump.gz.manifest.json']) {
      expect(parseBackupName(other)).toBeUndefined();
    }
  });

  test('destination: s3://bucket[/prefix]', () => {
    expect(parseDestination('s3://backups')).toEqual({ bucket: 'backups', prefix: '' });
    expect(parseDestination('s3://my.backups/db/prod/')).toEqual({ bucket: 'my.backups', prefix: 'db/prod' });
    expect(() => parseDestination('backups/db')).toThrow("Input 'destination' must look like 's3://bucket' or 's3://bucket/prefix' (a valid bucket name, then an optional path); got 'backups/db'.");
    expect(() => parseDestination('s3://Backups')).toThrow(/Input 'destination'/);
    expect(() => parseDestination('s3://b/../x')).toThrow(/Input 'destination'/);
    expect(() => parseDestination('s3://backups/a//b')).toThrow(/Input 'destination'/);
  });
});

describe('database URLs lose their password before reaching any command line', () => {
  test('the password is split out, percent-decoded; the rest stays a URL libpq reads', () => {
    const db = parsePostgresUrl('postgres-url', 'postgres://app:p%40ss%20w%2Fd@db.internal:5433/shop?sslmode=require');
    expect(db).toEqual({ url: 'postgres://app@db.internal:5433/shop?sslmode=require', password: 'p@ss w/d', database: 'shop', user: 'app', host: 'db.internal', port: 5433 });
    expect(describeDatabase(db)).toBe('app@db.internal:5433/shop');
    expect(withDatabase(db, 'shop_verify_1')).toMatchObject({ url: 'postgres://app@db.internal:5433/shop_verify_1?sslmode=require', database: 'shop_verify_1', password: 'p@ss w/d' });
  });

  test('a password given as a parameter is taken out too', () => {
    const db = parsePostgresUrl('restore-to', 'postgresql://app@127.0.0.1/shop?password=secret&application_name=x');
    expect(db.password).toBe('secret');
    expect(db.url).toBe('postgresql://app@127.0.0.1/shop?application_name=x');
    expect(db.url).not.toContain('secret');
  });

  test('no password: nothing to hide; sockets and IPv6 hosts', () => {
    expect(parsePostgresUrl('u', 'postgres:///shop?host=/var/run/postgresql')).toMatchObject({ password: '', host: '', database: 'shop' });
    expect(describeDatabase(parsePostgresUrl('u', 'postgres://[::1]:5432/shop'))).toBe('[::1]:5432/shop');
  });

  test('errors say what is expected, without echoing the URL (it may hold a password)', () => {
    expect(() => parsePostgresUrl('postgres-url', 'mysql://u:secret@h/db')).toThrow("Input 'postgres-url' must be a URL like 'postgres://user:password@host:5432/dbname'.");
    expect(() => parsePostgresUrl('postgres-url', 'postgres://u:secret@h')).toThrow(/with the database name after the host/);
    expect(() => parsePostgresUrl('postgres-url', 'postgres://u:secret@h/?dbname=x')).toThrow(/not in a 'dbname' parameter/);
    expect(() => parsePostgresUrl('postgres-url', 'not a url secret')).toThrow(/^(?!.*secret)/);
    expect(() => parsePostgresUrl('postgres-url', 'postgres://u:two%0Alines@h/db')).toThrow(/has a password with a line break/);
  });
});

describe('manifests', () => {
  const manifest = {
    format: MANIFEST_FORMAT,
    key: 'db/shop/20250102T030405Z-v1.pgdump.gz',
    app: 'shop',
    label: 'v1',
    createdAt: '2025-01-02T03:04:05.000Z',
    bytes: 1234,
    sha256: 'a'.repeat(64),
    dumpBytes: 4567,
    durationSeconds: 2.5,
    source: { kind: 'postgres', via: 'host', database: 'shop' },
    host: 'db1.example.com',
    compression: 'gzip',
    encryption: null,
    dumpTool: 'pg_dump (PostgreSQL) 15.8',
    verified: null,
    run: 'https://github.com/acme/shop/actions/runs/1',
  } as const;

  test('round-trip', () => {
    expect(parseManifest('k', formatManifest(manifest))).toEqual(manifest);
  });

  test('a manifest deploy-kit did not write is refused with what is wrong', () => {
    expect(() => parseManifest('k.manifest.json', '{')).toThrow('The manifest k.manifest.json is not JSON; the backup cannot be trusted.');
    expect(() => parseManifest('k.manifest.json', JSON.stringify({ ...manifest, sha256: 'x', bytes: 0 }))).toThrow(
      'The manifest k.manifest.json is not one deploy-kit wrote: no sha256, no size.',
    );
  });
});
