import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { EventFacts, readPreviewInputs } from '../../action-preview/src/inputs.js';

const key = ssh2.utils.generateKeyPairSync('ed25519').private;
const pullRequest: EventFacts = { name: 'pull_request', action: 'synchronize', pr: '12', sha: '0123456789abcdef0123456789abcdef01234567' };

describe("action-preview's inputs", () => {
  let workspace: string;
  beforeAll(() => {
    workspace = mkdtempSync(join(tmpdir(), 'preview-inputs-'));
    writeFileSync(join(workspace, 'docker-compose.yml'), 'services:\n  web:\n    image: app:${VERSION}\n');
    writeFileSync(join(workspace, 'privileged.yml'), 'services:\n  web:\n    image: app\n    privileged: true\n');
    writeFileSync(join(workspace, 'scrub.sql'), 'update customers set email = null;\n');
  });
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  const masked: string[] = [];
  const read = (given: Record<string, string>, event: EventFacts = pullRequest) =>
    readPreviewInputs(
      (name) => ({ host: 'preview1', username: 'deploy', 'private-key': key, 'insecure-ignore-host-key': 'true', version: 'v2', 'preview-domain': 'preview.example.com', ...given })[name] ?? '',
      (secret) => masked.push(secret),
      { run: { actor: 'ann', commit: 'abc', runUrl: 'local' }, defaultApp: 'shop', workspace, event, env: { GITHUB_REPOSITORY: 'acme/shop' } },
    );

  test('the command follows the event: a push to the pull request opens, closing closes, a schedule cleans up', () => {
    const opened = read({});
    expect(opened.command).toBe('open');
    expect(opened.pr).toMatchObject({ pr: 12, name: 'shop-pr-12', url: 'https://pr-12.preview.example.com', sha: pullRequest.sha });
    expect(read({}, { ...pullRequest, action: 'closed' }).command).toBe('close');
    expect(read({}, { name: 'schedule', action: '', pr: '', sha: '' }).command).toBe('cleanup');
    expect(() => read({}, { name: 'push', action: '', pr: '', sha: '' })).toThrow("Input 'command' must be open, close or cleanup on a 'push' event");
  });

  test.each([
    [{ 'preview-domain': '' }, "Input 'preview-domain' is required"],
    [{ 'preview-domain': 'localhost' }, "Input 'preview-domain' must be a domain"],
    [{ 'pr-number': 'abc' }, "Input 'pr-number' must be the pull request number"],
    [{ 'when-full': 'evict' }, "Input 'when-full' must be one of remove-oldest, refuse"],
    [{ 'port-range': '80-90' }, "Input 'port-range' must be 'FIRST-LAST' unprivileged ports"],
    [{ ttl: 'forever' }, "Input 'ttl' must be a duration like '7d'"],
    [{ memory: 'lots' }, "Input 'memory' must be a size like '512m'"],
    [{ 'web-service': 'api' }, "Input 'web-service' must name a service of the compose file(s) (web)"],
    [{ 'compose-file': 'privileged.yml' }, "Input 'compose-file': a preview may not reach outside its own project, and this reaches outside it: privileged.yml: services.web.privileged"],
    [{ host: 'a, b' }, "Input 'host' must name one host"],
    [{ 'previews-path': 'previews' }, "Input 'previews-path' must be an absolute path or start with '~/'"],
    [{ database: 'restore' }, "Input 'database: restore' needs 'database-url'"],
    [{ database: 'restore', 'database-url': 'postgres://admin:pw@db:5432/postgres' }, "Input 'database-from' is required"],
    [{ database: 'restore', 'database-url': 'postgres://admin:pw@db:5432/postgres', 'database-from': 'Shop!' }, "Input 'database-from' must be the app whose backups"],
    [{ database: 'empty', 'database-url': 'postgres://admin:pw@db:5432/postgres', 'database-scrub': 'scrub.sql' }, "Input 'database-scrub' runs after a restore"],
    [{ database: 'restore', 'database-url': 'postgres://admin:pw@db:5432/postgres', 'database-from': 'shop', 'database-scrub': '../etc/passwd', 'backup-destination': 's3://b/p' }, "Input 'database-scrub': '../etc/passwd' is outside the workspace"],
  ])('%o is refused in one line naming the input', (given, message) => {
    expect(() => read(given)).toThrow(message);
  });

  test('a restore reads its backup settings, and every secret is masked', () => {
    masked.length = 0;
    const settings = read({
      database: 'restore',
      'database-url': 'postgres://admin:admin-pw@db:5432/postgres',
      'database-from': 'shop',
      'database-scrub': 'scrub.sql',
      'backup-destination': 's3://backups/db',
      's3-access-key-id': 'AKIAEXAMPLE',
      's3-secret-access-key': 's3-secret-value',
      'github-token': 'ghs_token_value',
    });
    expect(settings.database).toMatchObject({ appHost: '', scrubFile: 'scrub.sql', scrubSql: 'update customers set email = null;\n', source: { kind: 'restore', app: 'shop', destination: { bucket: 'backups', prefix: 'db' } } });
    expect(masked).toEqual(expect.arrayContaining(['postgres://admin:admin-pw@db:5432/postgres', 'admin-pw', 'AKIAEXAMPLE', 's3-secret-value', 'ghs_token_value']));
  });
});
