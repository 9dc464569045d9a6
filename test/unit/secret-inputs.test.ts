import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { readBackupInputs } from '../../action-backup/src/inputs.js';
import { readDeployInputs } from '../../action-deploy/src/inputs.js';
import { readHealthgateInputs } from '../../action-healthgate/src/inputs.js';
import { readNotifyInputs } from '../../action-notify/src/inputs.js';
import { readRollbackInputs } from '../../action-rollback/src/inputs.js';
import { displayUrl } from '../../src/health/words.js';
import { MIN_MASKED_LENGTH, maskableParts, maskedForms, redactUrl, urlSecrets } from '../../src/inputs/secrets.js';

// Issue 17, items 4 and 5: an error about a secret-bearing input says what is wrong with its
// shape and never shows the value (nor a cut, escaped or decoded piece of it, which the
// runner's exact-match masking would not catch); what is masked is decided in one place.

/** A secret with the characters that JSON escaping or a cut would change, around a canary. */
const SECRET = 'p4"ss\\w0rd-CANARY-7f3a';
/** Pieces that must never appear: the canary, its start, and its escaped form. */
const PIECES = ['CANARY', 'p4"ss', 'p4\\"ss', 'p4%22ss', 'w0rd', '7f3a'];

const KEY = ssh2.utils.generateKeyPairSync('ed25519').private;
const ENCRYPTED = ssh2.utils.generateKeyPairSync('ed25519', { passphrase: 'right horse', cipher: 'aes256-ctr', rounds: 16 }).private;
const run = { actor: 'octocat', commit: 'abc', runUrl: 'https://github.com/acme/shop/actions/runs/1' };

let workspace: string;
beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'deploy-kit-secret-inputs-'));
  writeFileSync(join(workspace, 'docker-compose.yml'), 'services:\n  web:\n    image: shop\n');
});
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

const ssh = { host: 'web1.example.com', username: 'deploy', 'private-key': KEY, 'insecure-ignore-host-key': 'true' };
const source = (values: Record<string, string>) => (name: string) => values[name] ?? '';
const none = () => undefined;

type Reader = (values: Record<string, string>) => unknown;
const readers: Record<string, Reader> = {
  deploy: (v) => readDeployInputs(source({ ...ssh, version: 'v1', ...v }), none, { run, defaultApp: 'shop', workspace }),
  rollback: (v) => readRollbackInputs(source({ ...ssh, ...v }), none, { run, defaultApp: 'shop' }),
  healthgate: (v) => readHealthgateInputs(source({ url: 'http://127.0.0.1/health', ...v }), none),
  notify: (v) => readNotifyInputs(source({ status: 'success', ...v }), none, {}),
  backup: (v) =>
    readBackupInputs(source({ ...ssh, destination: 's3://backups', command: 'echo', ...v }), none, { run, defaultApp: 'shop', runId: '1' }),
};

/** [input, action, inputs that make it invalid with SECRET inside, the error expected]. */
const CASES: readonly (readonly [string, keyof typeof readers, Record<string, string>, RegExp])[] = [
  ['private-key', 'deploy', { 'private-key': `-----BEGIN OPENSSH PRIVATE KEY-----\n${SECRET}\n-----END OPENSSH PRIVATE KEY-----` }, /^Input 'private-key' must be a private key/],
  ['passphrase', 'deploy', { 'private-key': ENCRYPTED, passphrase: SECRET }, /^Input 'passphrase' does not decrypt 'private-key'\.$/],
  ['registry-password', 'deploy', { 'registry-password': SECRET }, /^Inputs 'registry-username' and 'registry-password' go together/],
  ['env (value)', 'deploy', { env: `TOKEN='${SECRET}\${HOME}'` }, /^Input 'env': the value of TOKEN contains '\$\{\.\.\.\}'/],
  ['env (a line of a value taken for a key)', 'deploy', { env: `CERT=-----BEGIN\n${SECRET} = x` }, /^Input 'env', line 2 is not KEY=value: .*The line is not shown: it may hold a secret\.$/],
  ['health-url (no URL)', 'deploy', { 'health-url': `http://probe:${SECRET}@shop.example.com:99999/health` }, /^Input 'health-url' must hold http:\/\/ or https:\/\/ URLs, one per line\.$/],
  ['health-url (userinfo and query)', 'rollback', { 'health-url': `ftp://probe:${encodeURIComponent(SECRET)}@shop.example.com/health?token=${encodeURIComponent(SECRET)}` }, /^Input 'health-url' must hold http:\/\/ or https:\/\/ URLs; got 'ftp:\/\/probe:\*\*\*@shop\.example\.com\/health\?token=\*\*\*'\.$/],
  ['url (a token as user name)', 'healthgate', { url: `gopher://${encodeURIComponent(SECRET)}@shop.example.com/` }, /^Input 'url' must hold http:\/\/ or https:\/\/ URLs; got 'gopher:\/\/\*\*\*@shop\.example\.com\/'\.$/],
  ['headers (not a header line)', 'healthgate', { headers: `Authorization Bearer ${SECRET}` }, /^Input 'headers' must hold 'Name: value' lines; line 1 is not one\.$/],
  ['headers (a value Node cannot send)', 'healthgate', { headers: `X-Ok: fine\nAuthorization: Bearer ${SECRET}\u200b` }, /^Input 'headers' values must be one line .*; the value on line 2 is not\.$/],
  ['slack-token', 'notify', { 'slack-token': `xoxb ${SECRET}`, channel: '#deploys' }, /^Input 'slack-token' must be one token/],
  ['slack-webhook-url', 'notify', { 'slack-webhook-url': `hooks.slack.com/services/${SECRET}` }, /^Input 'slack-webhook-url' must be the incoming webhook's full URL/],
  ['postgres-url', 'backup', { command: '', 'postgres-url': `postgres://app:${SECRET}@db.example.com:5432` }, /^Input 'postgres-url' must be a URL like/],
  ['restore-to', 'backup', { command: '', mode: 'restore', confirm: 'shop', 'restore-to': `mysql://app:${SECRET}@db.example.com/shop` }, /^Input 'restore-to' must be a URL like/],
  ['s3-access-key-id', 'backup', { 's3-access-key-id': SECRET }, /^Inputs 's3-access-key-id' and 's3-secret-access-key' go together/],
  ['s3-secret-access-key', 'backup', { 's3-secret-access-key': SECRET }, /^Inputs 's3-access-key-id' and 's3-secret-access-key' go together/],
  ['s3-endpoint (credentials in it)', 'backup', { 's3-endpoint': `ftp://AKIA:${encodeURIComponent(SECRET)}@s3.example.com` }, /^Input 's3-endpoint' must be a URL like .*; got 'ftp:\/\/AKIA:\*\*\*@s3\.example\.com\/?'\.$/],
  ['encryption-identity', 'backup', { 'encryption-identity': `AGE-SECRET-KEY-1${SECRET}` }, /^Input 'encryption-identity' must be an age private key/],
];

describe('errors about secret-bearing inputs describe the shape, never the value', () => {
  test.each(CASES)('%s', (_name, action, values, expected) => {
    let message = '';
    try {
      readers[action]!(values);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(expected);
    expect(PIECES.filter((piece) => message.includes(piece))).toEqual([]);
  });
});

describe('what is masked', () => {
  test('a whole secret at any length, and each line of a multi-line one from 4 characters on', () => {
    expect(MIN_MASKED_LENGTH).toBe(4);
    expect(maskedForms('pw1')).toEqual(['pw1']);
    expect(maskedForms('-----BEGIN X-----\nAAAAline\nxyz\n-----END X-----')).toEqual(['-----BEGIN X-----\nAAAAline\nxyz\n-----END X-----', '-----BEGIN X-----', 'AAAAline', '-----END X-----']);
    expect(maskedForms('  ')).toEqual([]);
  });

  test('parts that may not be secret (env values, header values) from 4 characters on: masking `1` would blank every 1 in the log', () => {
    expect(maskableParts(['1', '80', 'abc', 'abcd', 'a long secret'])).toEqual(['abcd', 'a long secret']);
  });

  test("a URL's password, a token as user name and its query values, as written and decoded", () => {
    expect(urlSecrets(new URL('https://probe:pa%24%24@shop.example.com/health?token=tok%2Ben&deep=1&key=abcd'))).toEqual(['pa%24%24', 'pa$$', 'tok%2Ben', 'tok+en', 'abcd']);
    expect(urlSecrets(new URL('https://ghp_0123456789@git.example.com/'))).toEqual(['ghp_0123456789']);
    expect(urlSecrets(new URL('https://probe:x@shop.example.com/'))).toEqual(['x']);
    expect(urlSecrets(new URL('http://127.0.0.1:8080/health'))).toEqual([]);
  });

  test('URLs are shown with the same parts hidden; a text that is not a URL is not shown at all', () => {
    expect(redactUrl('https://probe:hunter22@shop.example.com/health?token=abc&deep=1')).toBe('https://probe:***@shop.example.com/health?token=***&deep=***');
    expect(redactUrl('https://ghp_secret@git.example.com/x')).toBe('https://***@git.example.com/x');
    expect(redactUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(redactUrl('http://probe:secret@host:99999/')).toBeUndefined();
    expect(displayUrl('http://127.0.0.1:8080/health?token=s3cret')).toBe('http://127.0.0.1:8080/health?token=***');
  });

  test('action-deploy masks env values from 4 characters on and health URL tokens; action-healthgate header values', () => {
    const masked: string[] = [];
    readDeployInputs(
      source({ ...ssh, version: 'v1', env: 'A=1\nB=abc\nC=abcd', 'health-url': 'https://127.0.0.1/health?token=q-token-1' }),
      (secret) => masked.push(secret),
      { run, defaultApp: 'shop', workspace },
    );
    expect(masked).toEqual(expect.arrayContaining(['abcd', 'q-token-1']));
    expect(masked).not.toEqual(expect.arrayContaining(['1']));
    expect(masked).not.toContain('abc');
    const gate: string[] = [];
    readHealthgateInputs(source({ url: 'http://127.0.0.1/', headers: 'Authorization: Bearer t0ken\nX-Debug: 1' }), (secret) => gate.push(secret));
    expect(gate).toEqual(['Bearer t0ken']);
  });
});
