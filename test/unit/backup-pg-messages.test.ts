import { lastLines } from '../../src/backup/restore-database.js';
import { pgOutput, withoutRowData } from '../../src/backup/pg-messages.js';

// Error output as PostgreSQL 15's tools print it (captured from pg_restore, psql and pg_dump
// against a real cluster), and what of it may reach a public log.

const restoreFailed = [
  'pg_restore: error: COPY failed for table "customers": ERROR:  duplicate key value violates unique constraint "customers_pkey"',
  'DETAIL:  Key (id)=(1) already exists.',
  'CONTEXT:  COPY customers, line 1',
  '',
].join('\n');

const queryFailed = 'ERROR:  duplicate key value violates unique constraint "customers_email_key"\nDETAIL:  Key (email)=(alice@example.com) already exists.\n';

describe('PostgreSQL error output in public logs', () => {
  test("pg_restore's COPY failure: the error stays, the row it names does not", () => {
    const shown = withoutRowData(restoreFailed);
    expect(shown).not.toContain('Key (id)=(1)');
    expect(shown).not.toContain('COPY customers, line 1');
    expect(lastLines(shown)).toBe(
      'pg_restore: error: COPY failed for table "customers": ERROR:  duplicate key value violates unique constraint "customers_pkey" / ' +
        "(2 more lines withheld: they can hold row data; 'show-row-data: true' prints them)",
    );
  });

  test('a DETAIL whose value spans lines is withheld whole, up to the next message', () => {
    const text = [
      'ERROR:  new row for relation "notes" violates check constraint "short"',
      'DETAIL:  Failing row contains (7, first line of a secret note',
      'second line of the note',
      '   indented third line).',
      'psql:<stdin>:1: WARNING:  something else',
    ].join('\n');
    const shown = withoutRowData(text);
    expect(shown).not.toMatch(/secret|second line|third line/);
    expect(shown.split('\n')).toEqual([
      'ERROR:  new row for relation "notes" violates check constraint "short"',
      'psql:<stdin>:1: WARNING:  something else',
      "(3 more lines withheld: they can hold row data; 'show-row-data: true' prints them)",
    ]);
  });

  test("a server's messages in another language: what is not known to be safe is withheld", () => {
    const german = 'FEHLER:  doppelter Schlüsselwert verletzt Unique-Constraint »customers_pkey«\nDETAIL:  Schlüssel »(id)=(1)« existiert bereits.\n';
    expect(withoutRowData(german)).not.toContain('(id)=(1)');
  });

  test('messages without row data pass unchanged: a refused login, pg_dump and psql errors, hints', () => {
    const login = 'pg_dump: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "shop"\n';
    expect(withoutRowData(login)).toBe(login);
    const hint = 'ERROR:  function nope() does not exist\nHINT:  No function matches the given name and argument types.';
    expect(withoutRowData(hint)).toBe(hint);
    expect(withoutRowData('')).toBe('');
  });

  test("with 'show-row-data' everything is shown", () => {
    expect(pgOutput(queryFailed, true)).toBe(queryFailed);
    expect(pgOutput(queryFailed, false)).not.toContain('alice@example.com');
  });
});
