import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { readBackupInputs } from '../../action-backup/src/inputs.js';
import type { BackupSettings, RestoreSettings } from '../../src/backup/settings.js';

// action-backup's inputs, read from a plain map the way the runner hands them over.

let privateKey: string;
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'backup-inputs-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
  privateKey = readFileSync(join(dir, 'id'), 'utf8');
  rmSync(dir, { recursive: true });
});

const context = { run: { actor: 'octocat', commit: 'abc', runUrl: 'https://github.com/acme/shop/actions/runs/4242' }, defaultApp: 'shop', runId: '4242' };

function read(inputs: Record<string, string>) {
  const all: Record<string, string> = {
    host: 'db1.example.com',
    username: 'deploy',
    'private-key': privateKey,
    'insecure-ignore-host-key': 'true',
    destination: 's3://backups/db',
    's3-access-key-id': 'AKIAEXAMPLE',
    's3-secret-access-key': 'wJalrXUtnFEMI/K7MDENG',
    ...inputs,
  };
  const masked: string[] = [];
  const settings = readBackupInputs((name) => all[name] ?? '', (secret) => masked.push(secret), context);
  return { settings, masked };
}

describe('action-backup inputs', () => {
  test('a pg_dump backup with defaults; every secret is masked as soon as it is read', () => {
    const { settings, masked } = read({ 'postgres-url': 'postgres://app:pa55w0rd@127.0.0.1:5432/shop' });
    const backup = settings as BackupSettings;
    expect(backup).toMatchObject({
      mode: 'backup',
      app: 'shop',
      source: { kind: 'postgres', composeService: undefined, database: { url: 'postgres://app@127.0.0.1:5432/shop', password: 'pa55w0rd', database: 'shop' } },
      compression: 'gzip',
      recipients: [],
      label: '4242',
      localCopies: 0,
      retention: { count: 30, days: 30 },
      verify: false,
      showRowData: false,
      showVerifyResult: true,
      lock: { timeoutMs: 600_000, staleAfterMs: 600_000, breakStale: false },
      destination: { bucket: 'backups', prefix: 'db' },
      s3: { endpoint: '', region: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' }, forcePathStyle: false, sse: undefined },
    });
    expect(masked).toEqual(expect.arrayContaining(['wJalrXUtnFEMI/K7MDENG', 'AKIAEXAMPLE', 'postgres://app:pa55w0rd@127.0.0.1:5432/shop', 'pa55w0rd', privateKey]));
  });

  test("the deploy lock's inputs; a custom verify query's result is shown only with show-row-data", () => {
    const url = { 'postgres-url': 'postgres://app@127.0.0.1:5432/shop' };
    expect(read({ ...url, 'lock-timeout': '90s', 'lock-stale-after': '20m', 'break-stale-lock': 'true' }).settings.lock).toEqual({ timeoutMs: 90_000, staleAfterMs: 1_200_000, breakStale: true });
    expect(() => read({ ...url, 'lock-timeout': 'soon' })).toThrow("Input 'lock-timeout'");
    expect(read({ ...url, 'verify-query': 'select email from customers' }).settings).toMatchObject({ showRowData: false, showVerifyResult: false });
    expect(read({ ...url, 'verify-query': 'select email from customers', 'show-row-data': 'true' }).settings).toMatchObject({ showRowData: true, showVerifyResult: true });
  });

  test('the version names the backup when given; a command instead of a URL', () => {
    const { settings } = read({ command: 'tar -C /srv/data -c .', version: 'v1.4.2', compression: 'zstd', 'local-copies': '3' });
    expect(settings).toMatchObject({ source: { kind: 'command', script: 'tar -C /srv/data -c .' }, label: 'v1.4.2', compression: 'zstd', localCopies: 3 });
  });

  test('encryption: recipients are checked, the identity is masked', async () => {
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const { settings, masked } = read({
      'postgres-url': 'postgres://app@h/shop',
      'encryption-recipients': `# ops laptop\n${recipient}\n`,
      'encryption-identity': identity,
      verify: 'true',
    });
    expect(settings).toMatchObject({ recipients: [recipient], identity, verify: true });
    expect(masked).toContain(identity);
    expect(() => read({ 'postgres-url': 'postgres://app@h/shop', 'encryption-recipients': recipient, verify: 'true' })).toThrow(
      "Input 'verify: true' with 'encryption-recipients' needs 'encryption-identity' to read the encrypted backup back.",
    );
  });

  test('what to back up must be said once', () => {
    expect(() => read({})).toThrow("Say what to back up: 'postgres-url' (pg_dump, on the host or in 'compose-service'), or 'command' (any command whose output is the backup).");
    expect(() => read({ 'postgres-url': 'postgres://a@h/db', command: 'x' })).toThrow("Give either 'postgres-url' or 'command', not both.");
    expect(() => read({ 'compose-service': 'db', command: 'x' })).toThrow(/give 'postgres-url' too/);
    expect(() => read({ command: 'x', verify: 'true' })).toThrow(/needs 'postgres-url'/);
  });

  test('S3 settings', () => {
    expect(() => read({ command: 'x', 's3-secret-access-key': '' })).toThrow(/'s3-access-key-id' and 's3-secret-access-key' go together/);
    expect(() => read({ command: 'x', 's3-endpoint': 'minio:9000' })).toThrow("Input 's3-endpoint' must be a URL like 'https://s3.example.com' or 'http://127.0.0.1:9000'; got 'minio:9000'.");
    expect(() => read({ command: 'x', 's3-sse': 'rot13' })).toThrow("Input 's3-sse' must be one of AES256, aws:kms; got 'rot13'.");
    expect(read({ command: 'x', 's3-access-key-id': '', 's3-secret-access-key': '' }).settings.s3.credentials).toBeUndefined();
    expect(() => read({ command: 'x', 'retention-count': '0' })).toThrow(/Input 'retention-count' must be a whole number from 1/);
  });

  test('restore: confirm must name the target database', () => {
    const target = 'postgres://app:pw@127.0.0.1:5432/shop_staging';
    const { settings } = read({ mode: 'restore', 'restore-to': target, confirm: 'shop_staging' });
    expect(settings as RestoreSettings).toMatchObject({ mode: 'restore', from: 'latest', to: { database: 'shop_staging', password: 'pw' } });
    expect(() => read({ mode: 'restore', 'restore-to': target, confirm: 'shop' })).toThrow(
      "Input 'confirm' must be the name of the database being restored into ('shop_staging', from 'restore-to'); got 'shop'. This guards against restoring over the wrong database. Nothing was changed.",
    );
    expect(() => read({ mode: 'restore', 'restore-to': target })).toThrow(/Input 'confirm' must be the name of the database being restored into \('shop_staging', from 'restore-to'\)\. /);
    expect(() => read({ mode: 'restore', confirm: 'x' })).toThrow("Input 'restore-to' is required with 'mode: restore': the URL of the database to restore into.");
    expect(() => read({ mode: 'restore', 'restore-to': target, confirm: 'shop_staging', 'restore-from': '/etc/passwd' })).toThrow(/Input 'restore-from'/);
  });
});
