import { deploy } from '../deploy/deploy.js';
import type { DeployResult } from '../deploy/result.js';
import type { ComposeDeploySettings } from '../deploy/settings.js';
import { OperationError, errorMessage } from '../errors.js';
import { failureReason } from '../failure/report.js';
import { runGate } from '../health/gate.js';
import { describeVerdict } from '../health/summary.js';
import type { GateSettings } from '../health/types.js';
import { withLock } from '../release/lock-session.js';
import { HostSession, openHostSession } from '../release/session.js';
import type { Reporter } from '../report.js';
import { previewComment, PreviewState } from './comment.js';
import { PreviewDatabases } from './database.js';
import { PreviewGitHub } from './github.js';
import { PreviewHost } from './host.js';
import { previewDatabase } from './names.js';
import { OVERRIDE_FILE, previewOverride } from './override.js';
import { PreviewRecord, expired, makeRoom, pickPort } from './record.js';
import type { OpenSettings, PreviewSettings, PullRequestPreview } from './settings.js';

/** What one run of action-preview did. */
export interface PreviewOutcome {
  /** `live`, `failed` (open) or `removed` (close); '' for cleanup. */
  readonly status: 'live' | 'failed' | 'removed' | '';
  readonly deploy?: DeployResult;
  /** The one-line reason of a failed preview, from the failure diagnostics. */
  readonly reason: string;
  /** Previews this run removed, with why (eviction, ttl, close). */
  readonly removed: readonly { name: string; pr: number; why: string }[];
  /** The gate's verdict in words, when it ran. */
  readonly gate: string;
  readonly durationMs: number;
}

interface Run {
  readonly settings: PreviewSettings;
  readonly reporter: Reporter;
  readonly databases: PreviewDatabases | undefined;
  readonly github: PreviewGitHub | undefined;
  readonly previews: PreviewHost;
  readonly removed: { name: string; pr: number; why: string }[];
}

/** The whole story of one run: connect, take the previews lock, then open, close or clean up. */
export async function runPreview(settings: PreviewSettings, reporter: Reporter, mask: (secret: string) => void): Promise<PreviewOutcome> {
  const started = performance.now();
  const github = settings.github ? new PreviewGitHub(settings.github, reporter) : undefined;
  const open = settings.pr?.open;
  if (open && open.requireLabel !== '' && github && settings.pr) {
    const labelled = await github.hasLabel(settings.pr.pr, open.requireLabel);
    if (!labelled) {
      throw new OperationError(`Pull request #${settings.pr.pr} does not carry the label '${open.requireLabel}' ('require-label'); a maintainer adds it to allow its preview. Nothing was deployed.`);
    }
  }
  const session = await openHostSession(settings.ssh, 'previews', settings.previewsPath, reporter);
  try {
    const previews = new PreviewHost(session.host, session.layout.root, { config: settings.caddyConfig, routes: settings.caddyRoutes || `${session.layout.root}/routes` }, reporter);
    const databases = settings.database ? new PreviewDatabases(session.host, settings.database, reporter, mask) : undefined;
    const run: Run = { settings, reporter, databases, github, previews, removed: [] };
    const owner = { run: settings.runUrl, actor: 'deploy-kit preview', since: new Date().toISOString(), operation: `preview ${settings.command}${settings.pr ? ` of #${settings.pr.pr}` : ''}` };
    const outcome = await withLock(session.host, session.layout.lock, owner, settings.lock, reporter, async () => {
      if (settings.command === 'cleanup') return cleanup(run);
      const pr = settings.pr!;
      if (settings.command === 'close') return close(run, pr);
      return openPreview(run, session, pr, pr.open!);
    });
    return { ...outcome, removed: run.removed, durationMs: performance.now() - started };
  } finally {
    await session.host.close();
  }
}

type Told = Omit<PreviewOutcome, 'removed' | 'durationMs'>;

async function openPreview(run: Run, session: HostSession, pr: PullRequestPreview, open: OpenSettings): Promise<Told> {
  const { reporter, previews, settings } = run;
  const survey = await reporter.group(`Room for the preview of #${pr.pr}`, async () => {
    const found = await previews.survey(pr.name);
    const own = found.previews.find((p) => p.name === pr.name);
    const strangers = found.projectLabels.filter((label) => label !== pr.name);
    if (strangers.length > 0) {
      throw new OperationError(
        `A compose project named '${pr.name}' already runs on ${session.host.target.host} and is not this preview (${strangers.length} container(s) without its preview label); a preview never takes over another project. Nothing was changed.`,
      );
    }
    for (const old of makeRoom(found.previews, pr.name, open.maxPreviews, open.whenFull)) {
      await remove(run, old, `removed to make room for #${pr.pr} (max-previews: ${open.maxPreviews}; it was deployed longest ago)`);
    }
    reporter.info(`${found.previews.filter((p) => p.name !== pr.name).length} other preview(s) on the host; ${own ? `redeploying ${pr.name}` : `a new preview, ${pr.name}`}`);
    return { own, found };
  });

  const taken = new Set([...survey.found.listening, ...survey.found.previews.filter((p) => p.name !== pr.name).map((p) => p.port)]);
  const port = survey.own?.port ?? pickPort(open.portRange, taken);
  const now = new Date().toISOString();
  let record: PreviewRecord = {
    name: pr.name,
    app: settings.app,
    pr: pr.pr,
    port,
    url: pr.url,
    version: open.release.version,
    createdAt: survey.own?.createdAt ?? now,
    deployedAt: now,
    ...(survey.own?.database ? { database: survey.own.database } : {}),
  };
  // Written first: a preview whose first release fails is still found and removed by close, ttl and max-previews.
  await previews.writeRecord(record);

  let databaseUrl: string | undefined;
  if (run.databases && settings.database?.source) {
    const databases = run.databases;
    try {
      const database = await reporter.group(`Database of ${pr.name}`, () => databases.ensure(previewDatabase(pr.name), `${previews.folder(pr.name)}/database.password`, survey.own?.database !== undefined));
      record = { ...record, database: database.name };
      await previews.writeRecord(record);
      databaseUrl = database.url;
    } catch (error) {
      const reason = errorMessage(error);
      reporter.warning(reason);
      await tell(run, pr, open.release.version, { kind: 'failed', reason, serving: survey.own ? `the previous release (${survey.own.version})` : undefined }, 'failure');
      return { status: 'failed', reason, gate: '' };
    }
  }

  const gate: GateSettings = {
    urls: [`http://127.0.0.1:${port}${open.healthPath}`],
    expectStatus: '200-399',
    expectBody: undefined,
    headers: {},
    successes: 2,
    intervalMs: 1000,
    timeoutMs: open.healthTimeoutMs,
    requestTimeoutMs: 5000,
    maxLatencyMs: undefined,
    insecureTls: false,
    viaHost: true,
    containers: pr.name,
  };
  const deploySettings: ComposeDeploySettings = {
    ...open.release,
    app: pr.name,
    deployPath: previews.folder(pr.name),
    composeFiles: [
      ...open.release.composeFiles,
      { name: OVERRIDE_FILE, content: previewOverride({ services: open.services, webService: open.webService, webPort: open.webPort, hostPort: port, cpus: open.cpus, memory: open.memory, name: pr.name }) },
    ],
    env: { ...open.release.env, PREVIEW_URL: pr.url, PREVIEW_PR: String(pr.pr), ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    gate,
    target: 'compose',
    ssh: settings.ssh,
  };
  let verdict = '';
  const result = await deploy(deploySettings, {
    reporter,
    checkHealth: async (host) => {
      const outcome = await runGate(gate, host, reporter);
      verdict = describeVerdict(gate, outcome);
      return outcome;
    },
  });
  const serving = result.status === 'deployed' ? open.release.version : result.status === 'rolled-back' ? `the previous release (${survey.own?.version ?? 'unknown'}), put back` : undefined;
  if (serving !== undefined) {
    await reporter.group(`Route ${pr.hostName} to the preview`, async () => {
      await previews.addRoute(record, pr.hostName, pr.scheme);
      reporter.info(`Caddy sends ${pr.url} to 127.0.0.1:${port}`);
    });
  }
  if (result.status !== 'deployed') {
    // What users see is what ran: a failed release leaves the record at what was serving before.
    await previews.writeRecord(survey.own ? { ...record, version: survey.own.version, deployedAt: survey.own.deployedAt } : record);
  }
  const reason = result.error ? failureReason(result.failure, result.error) : '';
  const state: PreviewState = result.status === 'deployed' ? { kind: 'live', gate: verdict === '' ? 'passed' : verdict } : { kind: 'failed', reason, serving: serving && result.status === 'rolled-back' ? serving : undefined };
  await tell(run, pr, open.release.version, state, result.status === 'deployed' ? 'success' : 'failure');
  return { status: result.status === 'deployed' ? 'live' : 'failed', deploy: result, reason, gate: verdict };
}

async function close(run: Run, pr: PullRequestPreview): Promise<Told> {
  const { previews, reporter } = run;
  const survey = await previews.survey(pr.name);
  const own = survey.previews.find((p) => p.name === pr.name);
  if (own) {
    await remove(run, own, 'the pull request was closed');
  } else {
    reporter.info(`no preview named ${pr.name} on the host; removing whatever of it is left`);
    await reporter.group(`Remove ${pr.name}`, async () => {
      await previews.removeRoute(pr.name);
      if (survey.projectLabels.every((label) => label === pr.name)) await previews.removeEverything(pr.name);
    });
    await tell(run, pr, '', { kind: 'removed', why: 'the pull request was closed' }, 'inactive');
  }
  return { status: 'removed', reason: '', gate: '' };
}

async function cleanup(run: Run): Promise<Told> {
  const { previews, reporter, settings } = run;
  const survey = await previews.survey('');
  const old = expired(survey.previews, settings.ttlMs, new Date());
  reporter.info(`${survey.previews.length} preview(s) on the host; ${old.length} not deployed for longer than the ttl`);
  for (const { preview, idle } of old) await remove(run, preview, `not deployed for ${idle} (ttl)`);
  return { status: '', reason: '', gate: '' };
}

/** Removes one preview (route first, so the proxy never sends to a removed container) and tells its pull request. */
async function remove(run: Run, preview: PreviewRecord, why: string): Promise<void> {
  await run.reporter.group(`Remove ${preview.name} (#${preview.pr})`, async () => {
    run.reporter.info(why);
    await run.previews.removeRoute(preview.name);
    await run.previews.removeEverything(preview.name);
    if (preview.database && run.databases) await run.databases.drop(preview.database);
    else if (preview.database) run.reporter.warning(`The database ${preview.database} of ${preview.name} was left on its server: give 'database-url' to drop it with the preview.`);
  });
  run.removed.push({ name: preview.name, pr: preview.pr, why });
  const pr: PullRequestPreview = { pr: preview.pr, name: preview.name, url: preview.url, hostName: '', scheme: 'https', sha: '' };
  await tell(run, pr, preview.version, { kind: 'removed', why }, 'inactive');
}

/** The pull request's comment and its environment's deployment. */
async function tell(run: Run, pr: PullRequestPreview, version: string, state: PreviewState, deployment: 'success' | 'failure' | 'inactive'): Promise<void> {
  const { github, settings } = run;
  if (!github) return;
  try {
    await run.reporter.group(`Tell pull request #${pr.pr}`, async () => {
      await github.comment(pr.pr, pr.name, previewComment({ name: pr.name, url: pr.url, version, commit: pr.sha, state, at: new Date(), runUrl: settings.runUrl }));
      if (deployment === 'inactive') await github.deactivate(pr.pr, settings.runUrl);
      else
        await github.deployment(pr.pr, pr.sha, {
          state: deployment,
          url: pr.url,
          logUrl: settings.runUrl,
          description: state.kind === 'failed' ? `failed: ${state.reason}` : `${version} is live`,
        });
    });
  } catch (error) {
    run.reporter.warning(`Could not tell pull request #${pr.pr}: ${errorMessage(error)}`);
  }
}
