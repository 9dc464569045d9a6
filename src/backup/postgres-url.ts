import { invalid } from '../inputs/parse.js';

/**
 * A PostgreSQL connection URL split into what may be seen and what may not: `url` has no
 * password (it goes into argv on the host, where `ps` shows it); `password` only ever
 * travels over a command's standard input. Pure.
 */
export interface PostgresUrl {
  /** The URL without its password (`postgres://user@host:5432/db?sslmode=require`). */
  readonly url: string;
  /** '' when the URL has none (peer/trust auth, or a ~/.pgpass on the host). */
  readonly password: string;
  readonly database: string;
  readonly user: string;
  /** '' for the default (a Unix socket). */
  readonly host: string;
  readonly port: number | undefined;
}

const EXPECTED = "must be a URL like 'postgres://user:password@host:5432/dbname'";

export function parsePostgresUrl(name: string, raw: string): PostgresUrl {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw invalid(name, EXPECTED);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw invalid(name, EXPECTED);
  if (parsed.searchParams.has('dbname')) throw invalid(name, "must name the database in the path ('/dbname'), not in a 'dbname' parameter");
  const database = safeDecode(parsed.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) throw invalid(name, `${EXPECTED}, with the database name after the host`);
  let password = safeDecode(parsed.password);
  parsed.password = '';
  if (parsed.searchParams.has('password')) {
    password ||= parsed.searchParams.get('password') ?? '';
    parsed.searchParams.delete('password');
  }
  if (/[\r\n]/.test(password)) throw invalid(name, 'has a password with a line break, which cannot be handed to PostgreSQL\'s tools; change the password');
  return {
    url: parsed.toString(),
    password,
    database,
    user: safeDecode(parsed.username),
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? undefined : Number(parsed.port),
  };
}

/** The same server and credentials, another database (the scratch database of a verification). */
export function withDatabase(db: PostgresUrl, database: string): PostgresUrl {
  const parsed = new URL(db.url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return { ...db, url: parsed.toString(), database };
}

/** `user@host:port/db`, for logs and the manifest: never the password. */
export function describeDatabase(db: PostgresUrl): string {
  const host = db.host === '' ? '(socket)' : db.host.includes(':') ? `[${db.host}]` : db.host;
  return `${db.user ? `${db.user}@` : ''}${host}${db.port === undefined ? '' : `:${db.port}`}/${db.database}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
