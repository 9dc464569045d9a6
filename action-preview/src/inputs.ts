import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkIdentity } from '../../src/backup/codec.js';
import { parseDestination } from '../../src/backup/naming.js';
import { parsePostgresUrl } from '../../src/backup/postgres-url.js';
import { readS3Settings } from '../../src/backup/s3-inputs.js';
import { readWorkspaceFile } from '../../src/deploy/compose-files.js';
import type { PreviewDatabaseSettings } from '../../src/preview/database.js';
import { readReleaseInputs } from '../../src/deploy/release-inputs.js';
import { ConfigurationError } from '../../src/errors.js';
import type { RunContext } from '../../src/run-context.js';
import { parseAppName, parseDeployPath } from '../../src/inputs/names.js';
import { InputSource, invalid, oneOf, parseDuration, parseInteger, required } from '../../src/inputs/parse.js';
import { readLockOptions } from '../../src/release/lock.js';
import { Masker, readSshHosts } from '../../src/ssh/settings.js';
import { previewComposeFacts } from '../../src/preview/compose-rules.js';
import { parsePrNumber, parsePreviewDomain, previewHost, previewName, previewUrl } from '../../src/preview/names.js';
import type { PortRange } from '../../src/preview/record.js';
import type { OpenSettings, PreviewCommand, PreviewSettings, PullRequestPreview } from '../../src/preview/settings.js';

/** What the runner says about the event that started the job (GITHUB_EVENT_NAME and its payload). */
export interface EventFacts {
  readonly name: string;
  readonly action: string;
  readonly pr: string;
  readonly sha: string;
}

export function readEvent(env: NodeJS.ProcessEnv = process.env): EventFacts {
  let payload: { action?: string; number?: number; pull_request?: { number?: number; head?: { sha?: string } } } = {};
  try {
    if (env.GITHUB_EVENT_PATH) payload = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as typeof payload;
  } catch {
    payload = {};
  }
  const pr = payload.pull_request?.number ?? payload.number;
  return { name: env.GITHUB_EVENT_NAME ?? '', action: payload.action ?? '', pr: pr === undefined ? '' : String(pr), sha: payload.pull_request?.head?.sha ?? env.GITHUB_SHA ?? '' };
}

/** `open` on a pull request, `close` when it closes, `cleanup` on a schedule; or as given. */
function readCommand(raw: string, event: EventFacts): PreviewCommand {
  const given = oneOf('command', raw, ['auto', 'open', 'close', 'cleanup'] as const, 'auto');
  if (given !== 'auto') return given;
  if (event.name === 'pull_request' || event.name === 'pull_request_target') return event.action === 'closed' ? 'close' : 'open';
  if (event.name === 'schedule') return 'cleanup';
  throw invalid('command', `must be open, close or cleanup on a '${event.name || 'unknown'}' event (only pull_request and schedule events choose it themselves)`);
}

/** `7d`, `48h`, `30m`: how long a preview may go without a deploy. */
function parseTtl(raw: string): number {
  const days = /^(\d+)d$/.exec(raw || '7d');
  if (days) return Number(days[1]) * 86_400_000;
  try {
    return parseDuration('ttl', raw);
  } catch {
    throw invalid('ttl', "must be a duration like '7d', '48h' or '90m'", raw);
  }
}

/** `database` and its inputs; the server's URL is needed to drop databases on close and cleanup too. */
function readDatabase(input: InputSource, mask: Masker, command: PreviewCommand, workspace: string): { database?: PreviewDatabaseSettings } {
  const kind = oneOf('database', input('database'), ['none', 'empty', 'restore'] as const, 'none');
  const raw = input('database-url');
  if (raw === '') {
    if (kind !== 'none' && command === 'open') throw new ConfigurationError(`Input 'database: ${kind}' needs 'database-url': a PostgreSQL URL, as the host reaches the server, of a role that may create roles and databases.`);
    return {};
  }
  mask(raw);
  const admin = parsePostgresUrl('database-url', raw);
  if (admin.password !== '') mask(admin.password);
  const appHost = input('database-host');
  if (appHost !== '' && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(appHost)) throw invalid('database-host', "must be 'host' or 'host:port' as the preview's containers reach the server", appHost);
  const scrubFile = input('database-scrub');
  const scrubSql = scrubFile === '' ? '' : readWorkspaceFile(workspace, resolve(workspace, scrubFile), scrubFile, 'database-scrub');
  if (scrubFile !== '' && kind !== 'restore') throw new ConfigurationError("Input 'database-scrub' runs after a restore; it needs 'database: restore'.");
  const base = { admin, appHost, scrubSql, scrubFile };
  if (command !== 'open' || kind === 'none') return { database: base };
  if (kind === 'empty') return { database: { ...base, source: { kind } } };
  const accessKey = input('s3-access-key-id');
  const secretKey = input('s3-secret-access-key');
  const identity = input('encryption-identity');
  for (const secret of [accessKey, secretKey, identity]) if (secret !== '') mask(secret);
  if (identity !== '') checkIdentity(identity);
  return {
    database: {
      ...base,
      source: {
        kind,
        app: readDatabaseFrom(input('database-from')),
        destination: parseDestination(required('backup-destination', input('backup-destination'))),
        s3: readS3Settings(input, accessKey, secretKey),
        identity,
      },
    },
  };
}

function readDatabaseFrom(raw: string): string {
  const app = required('database-from', raw);
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(app)) throw invalid('database-from', 'must be the app whose backups action-backup made (its `app`)', app);
  return app;
}

function parsePortRange(raw: string): PortRange {
  const match = /^(\d{4,5})-(\d{4,5})$/.exec(raw || '21000-21999');
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (!match || first < 1024 || last > 65535 || first > last) throw invalid('port-range', "must be 'FIRST-LAST' unprivileged ports, like '21000-21999'", raw);
  return { first, last };
}

/** The only place action-preview reads its inputs: all of them, checked, before any connection. */
export function readPreviewInputs(input: InputSource, mask: Masker, context: { run: RunContext; defaultApp: string; workspace: string; event: EventFacts; env: NodeJS.ProcessEnv }): PreviewSettings {
  const command = readCommand(input('command'), context.event);
  const hosts = readSshHosts(input, mask);
  if (hosts.length > 1) throw invalid('host', 'must name one host: previews live on one server');
  const app = parseAppName(input('app'), context.defaultApp);
  const token = input('github-token');
  if (token !== '') mask(token);
  const repository = context.env.GITHUB_REPOSITORY ?? '';
    const base = {
    command,
    app,
    ssh: hosts[0]!,
    previewsPath: parseDeployPath(input('previews-path'), 'previews-path') || '~/deploy-kit/previews',
    caddyConfig: absolute('caddy-config', input('caddy-config') || '/etc/caddy/Caddyfile'),
    caddyRoutes: input('caddy-routes') === '' ? '' : absolute('caddy-routes', input('caddy-routes')),
    lock: readLockOptions(input),
    github: token !== '' && repository !== '' ? { token, repository, apiUrl: context.env.GITHUB_API_URL ?? 'https://api.github.com' } : undefined,
    runUrl: context.run.runUrl,
    ttlMs: parseTtl(input('ttl')),
    ...readDatabase(input, mask, command, context.workspace),
  };
  if (command === 'cleanup') return base;

  const pr = parsePrNumber(input('pr-number') || context.event.pr);
  const domain = parsePreviewDomain(required('preview-domain', input('preview-domain')));
  const scheme = oneOf('preview-scheme', input('preview-scheme'), ['https', 'http'] as const, 'https');
  const sha = input('sha') || context.event.sha;
  if (sha !== '' && !/^[0-9a-f]{7,64}$|^[A-Za-z0-9._/-]{1,200}$/.test(sha)) throw invalid('sha', 'must be a commit SHA or a ref', sha);
  const preview: PullRequestPreview = { pr, name: previewName(app, pr), url: previewUrl(scheme, domain, pr), hostName: previewHost(domain, pr), scheme, sha };
  if (command === 'close') return { ...base, pr: preview };
  return { ...base, pr: { ...preview, open: readOpen(input, mask, context) } };
}

function readOpen(input: InputSource, mask: Masker, context: { run: RunContext; workspace: string }): OpenSettings {
  const release = readReleaseInputs(input, mask, context, { keepReleases: 2 });
  const facts = previewComposeFacts(release.composeFiles);
  if (facts.problems.length > 0) {
    throw new ConfigurationError(
      `Input 'compose-file': a preview may not reach outside its own project, and ${facts.problems.length === 1 ? 'this reaches' : 'these reach'} outside it: ${facts.problems.join('; ')}. Nothing was changed.`,
    );
  }
  const webService = input('web-service') || 'web';
  if (!facts.services.includes(webService)) throw invalid('web-service', `must name a service of the compose file(s) (${facts.services.join(', ') || 'none found'})`, webService);
  const healthPath = input('health-path') || '/';
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(healthPath)) throw invalid('health-path', "must be a URL path starting with '/'", healthPath);
  const cpus = input('cpus') || '1';
  if (!/^(\d+(\.\d+)?)$/.test(cpus) || Number(cpus) <= 0 || Number(cpus) > 64) throw invalid('cpus', "must be a number of CPUs like '0.5' or '2'", cpus);
  const memory = (input('memory') || '512m').toLowerCase();
  if (!/^\d+[kmg]?$/.test(memory) || /^0+[kmg]?$/.test(memory)) throw invalid('memory', "must be a size like '512m' or '1g'", memory);
  const requireLabel = input('require-label');
  if (requireLabel.length > 50 || /[\n\r]/.test(requireLabel)) throw invalid('require-label', 'must be a label name (one line, at most 50 characters)');
  return {
    release,
    services: facts.services,
    webService,
    webPort: parseInteger('web-port', input('web-port'), { min: 1, max: 65535 }, 80),
    healthPath,
    healthTimeoutMs: parseDuration('health-timeout', input('health-timeout'), '60s'),
    cpus,
    memory,
    maxPreviews: parseInteger('max-previews', input('max-previews'), { min: 1, max: 100 }, 5),
    whenFull: oneOf('when-full', input('when-full'), ['remove-oldest', 'refuse'] as const, 'remove-oldest'),
    portRange: parsePortRange(input('port-range')),
    requireLabel,
  };
}

function absolute(name: string, path: string): string {
  if (!/^\/[A-Za-z0-9._/-]*$/.test(path) || path.split('/').includes('..')) throw invalid(name, 'must be an absolute path on the host (letters, digits, . _ - /)', path);
  return path.replace(/\/+$/, '') || '/';
}
