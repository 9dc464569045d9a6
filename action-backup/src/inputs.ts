import { checkIdentity, checkRecipients } from '../../src/backup/codec.js';
import { parseDestination } from '../../src/backup/naming.js';
import { PostgresUrl, parsePostgresUrl } from '../../src/backup/postgres-url.js';
import type { ActionSettings, BackupCommon, DumpSource } from '../../src/backup/settings.js';
import { readS3Settings } from '../../src/backup/s3-inputs.js';
import type { RunContext } from '../../src/run-context.js';
import { ConfigurationError } from '../../src/errors.js';
import { parseAppName, parseDeployPath, parseVersion } from '../../src/inputs/names.js';
import { InputSource, invalid, oneOf, parseBoolean, parseDuration, parseInteger, parseList, required } from '../../src/inputs/parse.js';
import { Masker, readSshSettings } from '../../src/ssh/settings.js';

/** action.yml's default, for runs that pass an empty `verify-query`. */
export const DEFAULT_VERIFY_QUERY = "select count(*) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')";

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * The only place action-backup reads its inputs: all of them, checked, before any connection.
 * Secrets are masked as soon as they are read: the SSH key, the S3 keys, database URLs (whole,
 * and their passwords), the age identity.
 */
export function readBackupInputs(input: InputSource, mask: Masker, context: { run: RunContext; defaultApp: string; runId: string }): ActionSettings {
  const secretKey = input('s3-secret-access-key');
  const accessKey = input('s3-access-key-id');
  const identity = input('encryption-identity');
  for (const secret of [secretKey, accessKey, identity]) if (secret !== '') mask(secret);
  const postgresUrl = readDatabaseUrl(input, mask, 'postgres-url');
  const restoreTo = readDatabaseUrl(input, mask, 'restore-to');

  const mode = oneOf('mode', input('mode'), ['backup', 'restore'] as const, 'backup');
  const verifyQuery = input('verify-query') || DEFAULT_VERIFY_QUERY;
  const showRowData = parseBoolean('show-row-data', input('show-row-data'));
  const common: BackupCommon = {
    ssh: readSshSettings(input, mask),
    app: parseAppName(input('app'), context.defaultApp),
    deployPath: parseDeployPath(input('deploy-path')),
    destination: parseDestination(required('destination', input('destination'))),
    s3: readS3Settings(input, accessKey, secretKey),
    identity,
    verify: parseBoolean('verify', input('verify')),
    verifyQuery,
    // The default query counts tables; a query of the user's own can return rows.
    showVerifyResult: showRowData || verifyQuery === DEFAULT_VERIFY_QUERY,
    showRowData,
    lock: {
      timeoutMs: parseDuration('lock-timeout', input('lock-timeout'), '10m'),
      staleAfterMs: parseDuration('lock-stale-after', input('lock-stale-after'), '10m'),
      breakStale: parseBoolean('break-stale-lock', input('break-stale-lock')),
    },
    run: context.run,
  };
  if (identity !== '') checkIdentity(identity);
  const composeService = readService(input);

  if (mode === 'restore') {
    if (!restoreTo) throw new ConfigurationError("Input 'restore-to' is required with 'mode: restore': the URL of the database to restore into.");
    const confirm = input('confirm');
    if (confirm !== restoreTo.database) {
      throw new ConfigurationError(
        `Input 'confirm' must be the name of the database being restored into ('${restoreTo.database}', from 'restore-to')` +
          `${confirm === '' ? '' : `; got '${confirm}'`}. This guards against restoring over the wrong database. Nothing was changed.`,
      );
    }
    const from = input('restore-from') || 'latest';
    if (from !== 'latest' && (from.startsWith('/') || from.includes('//') || /[\u0000-\u001f]/.test(from))) {
      throw invalid('restore-from', "must be 'latest' or an object key as the 'key' output printed it", from);
    }
    return { ...common, mode, from, to: restoreTo, composeService };
  }

  // One per line as in an age recipients file (`# comments` allowed), or separated by spaces or commas.
  const recipients = parseList(
    input('encryption-recipients')
      .split('\n')
      .filter((line) => !line.trim().startsWith('#'))
      .join('\n'),
    /[\s,]+/,
  );
  checkRecipients(recipients);
  const source = readSource(input, postgresUrl, composeService);
  if (common.verify && source.kind !== 'postgres') {
    throw new ConfigurationError("Input 'verify: true' restores the backup with pg_restore, so it needs 'postgres-url' (not 'command').");
  }
  if (common.verify && recipients.length > 0 && identity === '') {
    throw new ConfigurationError("Input 'verify: true' with 'encryption-recipients' needs 'encryption-identity' to read the encrypted backup back.");
  }
  const version = input('version');
  return {
    ...common,
    mode,
    source,
    compression: oneOf('compression', input('compression'), ['gzip', 'zstd', 'none'] as const, 'gzip'),
    recipients,
    label: version !== '' ? parseVersion(version) : context.runId || 'manual',
    localCopies: parseInteger('local-copies', input('local-copies'), { min: 0, max: 1000 }, 0),
    retention: {
      count: parseInteger('retention-count', input('retention-count'), { min: 1, max: 100_000 }, 30),
      days: parseInteger('retention-days', input('retention-days'), { min: 0, max: 36_500 }, 30),
    },
  };
}

function readDatabaseUrl(input: InputSource, mask: Masker, name: string): PostgresUrl | undefined {
  const raw = input(name);
  if (raw === '') return undefined;
  mask(raw);
  const url = parsePostgresUrl(name, raw);
  if (url.password !== '') mask(url.password);
  return url;
}

function readService(input: InputSource): string | undefined {
  const service = input('compose-service');
  if (service === '') return undefined;
  if (!SERVICE.test(service)) throw invalid('compose-service', 'must be a compose service name', service);
  return service;
}

function readSource(input: InputSource, database: PostgresUrl | undefined, composeService: string | undefined): DumpSource {
  const script = input('command');
  if (script !== '' && database) throw new ConfigurationError("Give either 'postgres-url' or 'command', not both.");
  if (composeService && !database) throw new ConfigurationError("Input 'compose-service' runs pg_dump in that service's container; give 'postgres-url' too (as seen from inside the container).");
  if (database) return { kind: 'postgres', database, composeService };
  if (script !== '') return { kind: 'command', script };
  throw new ConfigurationError("Say what to back up: 'postgres-url' (pg_dump, on the host or in 'compose-service'), or 'command' (any command whose output is the backup).");
}
