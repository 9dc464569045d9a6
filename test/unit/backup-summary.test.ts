import type { BackupResult } from '../../src/backup/backup.js';
import { MANIFEST_FORMAT, Manifest } from '../../src/backup/manifest.js';
import type { RestoreResult } from '../../src/backup/restore-database.js';
import { backupSummary, failureSummary, restoreSummary } from '../../src/backup/summary.js';

const manifest: Manifest = {
  format: MANIFEST_FORMAT,
  key: 'db/shop/20250102T030405Z-v1.pgdump.gz.age',
  app: 'shop',
  label: 'v1',
  createdAt: '2025-01-02T03:04:05.000Z',
  bytes: 1234,
  sha256: 'ab'.repeat(32),
  dumpBytes: 4567,
  durationSeconds: 2.5,
  source: { kind: 'postgres', via: 'host', database: 'shop' },
  host: 'db1',
  compression: 'gzip',
  encryption: { scheme: 'age', recipients: ['age1x', 'age1y'] },
  dumpTool: 'pg_dump (PostgreSQL) 15.8',
  verified: { query: 'select 1', result: '1' },
  run: 'https://github.com/acme/shop/actions/runs/1',
};

describe('job summaries', () => {
  test('a backup: the outputs, how it was stored, what retention deleted and why', () => {
    const result: BackupResult = {
      key: manifest.key,
      bytes: 1234,
      sha256: manifest.sha256,
      dumpBytes: 4567,
      durationMs: 2500,
      verified: true,
      verifyResult: '1',
      deleted: [{ key: 'db/shop/20240101T000000Z-v0.pgdump.gz', kind: 'backup', deleteKeys: [], reason: 'not among the newest 30 and 366 days old (more than 30 days)' }],
      kept: 30,
      localCopies: { kept: 2, removed: ['20240101T000000Z-v0.pgdump'] },
      manifest,
    };
    const md = backupSummary('shop', result, [{ name: 'Dump and upload x', ms: 2100, ok: true }]);
    expect(md).toContain('## ✅ shop: backed up');
    expect(md).toContain(`| Key | \`${manifest.key}\` |`);
    expect(md).toContain('| Bytes | 1234 (dump 4567) |');
    expect(md).toContain(`| SHA-256 | \`${manifest.sha256}\` |`);
    expect(md).toContain('| Duration | 2.5 s |');
    expect(md).toContain('| Verified | true: `1` |');
    expect(md).toContain('| Encryption | age, 2 recipient(s) |');
    expect(md).toContain('| Local copies | 2 on the host, removed 1 |');
    expect(md).toContain('| Retention | 30 kept, 1 deleted |');
    expect(md).toContain('| `db/shop/20240101T000000Z-v0.pgdump.gz` | not among the newest 30 and 366 days old (more than 30 days) |');
    expect(md).toContain('| Dump and upload x | 2.1s | ok |');
  });

  test('a restore, and a failure', () => {
    const result: RestoreResult = { key: manifest.key, bytes: 1234, sha256: manifest.sha256, durationMs: 1000, target: 'app@db:5432/shop', verified: false, verifyResult: undefined, manifest };
    const md = restoreSummary('shop', result, []);
    expect(md).toContain('## ✅ shop: restored');
    expect(md).toContain('| Into | `app@db:5432/shop` |');
    expect(md).toContain('| Verified | false |');
    expect(md).not.toContain('### Phases');
    // Verified with a custom query whose result is withheld (it can hold rows).
    expect(restoreSummary('shop', { ...result, verified: true }, [])).toContain('| Verified | true (the result of the custom verify query is withheld) |');
    expect(failureSummary('shop', 'backup', 'pg_dump failed | badly\nreally', [])).toBe('## ❌ shop: backup failed\n\n> pg_dump failed \\| badly really\n');
  });
});
