import { catalog, localCopiesToRemove, planRetention } from '../../src/backup/retention.js';

// Retention: keep the newest N AND everything younger than D days; delete only what is beyond
// both; the newest valid backup never goes; objects without a manifest never count.

const now = new Date('2025-06-30T12:00:00Z');
const daysAgo = (days: number) => {
  const d = new Date(now.getTime() - days * 86_400_000);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
};
const backup = (days: number, label = 'v', ext = 'pgdump.gz') => `db/shop/${daysAgo(days)}-${label}.${ext}`;
/** An object and its manifest. */
const valid = (days: number, label?: string) => [backup(days, label), `${backup(days, label)}.manifest.json`];
const listed = (keys: string[]) => keys.map((key) => ({ key, size: 100 }));

describe('catalog', () => {
  test('sorts a folder into backups (object + manifest), incomplete objects and stray manifests; ignores what it did not name', () => {
    const c = catalog(
      listed([
        ...valid(3, 'a'),
        ...valid(1, 'b'),
        backup(2, 'no-manifest'),
        `${backup(40, 'gone')}.manifest.json`,
        'db/shop/README.txt',
        'db/shop/20250101T000000Z-x.sql',
      ]),
    );
    expect(c.backups.map((b) => b.label)).toEqual(['b', 'a']);
    expect(c.incomplete.map((b) => b.label)).toEqual(['no-manifest']);
    expect(c.strayManifests.map((m) => m.key)).toEqual([`${backup(40, 'gone')}.manifest.json`]);
  });

  test('an empty object is not a backup, manifest or not', () => {
    const c = catalog([
      { key: backup(1, 'empty'), size: 0 },
      { key: `${backup(1, 'empty')}.manifest.json`, size: 300 },
    ]);
    expect(c.backups).toEqual([]);
    expect(c.incomplete.map((b) => b.label)).toEqual(['empty']);
  });
});

describe('planRetention', () => {
  const policy = { count: 3, days: 30 };

  test('a mix of old and new, complete and incomplete: only what is beyond both limits goes', () => {
    const plan = planRetention(
      catalog(
        listed([
          ...valid(0, 'today'),
          ...valid(2, 'recent'),
          ...valid(45, 'old1'), // fourth newest and 45 days old: deleted
          ...valid(50, 'old2'),
          ...valid(100, 'old3'),
          ...valid(10, 'young'), // third newest (order is by the time in the name, not the listing)
          backup(90, 'cut-off'), // incomplete, old: deleted
          backup(0.01, 'in-progress'), // incomplete, minutes old: another run may be writing it
          `${backup(60, 'lost')}.manifest.json`, // stray manifest, old: deleted
          'db/shop/notes.txt',
        ]),
      ),
      policy,
      now,
    );
    expect(plan.keep.map((k) => `${k.key.split('-').slice(1).join('-')}: ${k.reason}`)).toEqual([
      'today.pgdump.gz: the newest valid backup',
      'recent.pgdump.gz: one of the newest 3',
      'young.pgdump.gz: one of the newest 3',
      'in-progress.pgdump.gz: incomplete (no manifest), younger than 30 days: left for inspection',
    ]);
    expect(plan.delete.map((d) => d.deleteKeys)).toEqual([
      [backup(45, 'old1'), `${backup(45, 'old1')}.manifest.json`],
      [backup(50, 'old2'), `${backup(50, 'old2')}.manifest.json`],
      [backup(100, 'old3'), `${backup(100, 'old3')}.manifest.json`],
      [backup(90, 'cut-off')],
      [`${backup(60, 'lost')}.manifest.json`],
    ]);
    expect(plan.delete[0]!.reason).toBe('not among the newest 3 and 45 days old (more than 30 days)');
    expect(plan.delete[3]!.reason).toBe('incomplete (no manifest) and 90 days old');
  });

  test('young backups beyond the count stay: both limits must be passed', () => {
    const plan = planRetention(catalog(listed([...valid(1, 'a'), ...valid(2, 'b'), ...valid(3, 'c'), ...valid(4, 'd'), ...valid(29, 'e')])), policy, now);
    expect(plan.delete).toEqual([]);
    expect(plan.keep.map((k) => k.reason).slice(3)).toEqual(['younger than 30 days', 'younger than 30 days']);
  });

  test('the newest valid backup is never deleted, however old and whatever the policy', () => {
    const plan = planRetention(catalog(listed([...valid(400, 'last-good'), ...valid(500, 'older'), backup(0.5, 'newer-but-incomplete')])), { count: 1, days: 0 }, now);
    expect(plan.keep.map((k) => k.key)).toEqual([backup(400, 'last-good'), backup(0.5, 'newer-but-incomplete')]);
    expect(plan.delete.map((d) => d.key)).toEqual([backup(500, 'older')]);
  });

  test('manifest-less objects never count towards the newest N', () => {
    const plan = planRetention(
      catalog(listed([backup(1, 'x1'), backup(2, 'x2'), backup(3, 'x3'), ...valid(40, 'a'), ...valid(41, 'b'), ...valid(42, 'c'), ...valid(43, 'd')])),
      policy,
      now,
    );
    expect(plan.delete.map((d) => d.key)).toEqual([backup(43, 'd')]);
  });

  test('with retention-days 0, incomplete objects still get a day: a backup being written right now is not touched', () => {
    const plan = planRetention(catalog(listed([...valid(0, 'new'), backup(0.5, 'writing'), backup(1.5, 'stale')])), { count: 1, days: 0 }, now);
    expect(plan.delete.map((d) => d.key)).toEqual([backup(1.5, 'stale')]);
  });

  test('the backup this run made is kept even when a runner clock that is behind named it older than the others', () => {
    const made = backup(0.1, 'made-by-a-slow-clock');
    const plan = planRetention(catalog(listed([...valid(0, 'earlier-run'), made, `${made}.manifest.json`])), { count: 1, days: 0 }, now, [made]);
    expect(plan.delete).toEqual([]);
    expect(plan.keep.map((k) => [k.key, k.reason])).toEqual([
      [backup(0, 'earlier-run'), 'the newest valid backup'],
      [made, 'the backup this run made'],
    ]);
    // Without it, that is the backup retention would delete.
    expect(planRetention(catalog(listed([...valid(0, 'earlier-run'), made, `${made}.manifest.json`])), { count: 1, days: 0 }, now).delete.map((d) => d.key)).toEqual([made]);
  });

  test('an empty folder plans nothing', () => {
    expect(planRetention(catalog([]), policy, now)).toEqual({ keep: [], delete: [] });
  });
});

describe('local copies on the host', () => {
  test('keeps the newest N of its own dump files; partials and other files are left alone', () => {
    const names = ['20250103T000000Z-3.pgdump', '20250101T000000Z-1.pgdump', '.20250104T000000Z-4.pgdump.partial', '20250102T000000Z-2.pgdump', 'notes.txt', '20250102T120000Z-x.dump'];
    expect(localCopiesToRemove(names, 2)).toEqual(['20250102T000000Z-2.pgdump', '20250101T000000Z-1.pgdump']);
    expect(localCopiesToRemove(names, 10)).toEqual([]);
  });
});
