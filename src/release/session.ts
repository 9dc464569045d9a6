import { ComposeProject, ComposeVariant } from '../compose/cli.js';
import { OperationError } from '../errors.js';
import { Reporter } from '../report.js';
import { constant, quote } from '../shell/quote.js';
import { inSections } from '../shell/sections.js';
import { CommandObserver, RemoteHost } from '../ssh/connection.js';
import { SshSettings, describeTarget } from '../ssh/settings.js';
import { AppLayout, appLayout, resolveDeployPath } from './layout.js';
import { ReleaseRecord, parseRecord } from './record.js';
import { AppState, parseAppState, parseHostFacts, probeHost, readAppState } from './state.js';

/** One host, connected, with the app's folders resolved: what every host-facing action starts from. */
export interface AppSession {
  readonly host: RemoteHost;
  readonly layout: AppLayout;
  readonly compose: ComposeVariant;
  readonly app: string;
}

/** A connected host before anything is asked of its Compose (a backup of the host's own database needs none). */
export interface HostSession extends Omit<AppSession, 'compose'> {
  readonly compose: ComposeVariant | undefined;
}

/** Connects (host key first), learns the host's home and Compose, and resolves the deploy path. */
export async function openHostSession(ssh: SshSettings, app: string, deployPath: string, reporter: Reporter, observe?: CommandObserver): Promise<HostSession> {
  return reporter.group(`Connect to ${describeTarget(ssh)}`, async () => {
    const host = await RemoteHost.connect(ssh, observe, probeHost);
    try {
      const facts = parseHostFacts(host.greeting);
      const layout = appLayout(resolveDeployPath(deployPath || `~/deploy-kit/${app}`, facts.home));
      reporter.info(
        `connected; host key verified${ssh.hostKeys.insecureIgnore ? ' (NOT: insecure-ignore-host-key is set)' : ''}; ` +
          `Compose ${facts.compose ?? 'not installed'}; deploy path ${layout.root}`,
      );
      return { host, layout, compose: facts.compose, app };
    } catch (error) {
      await host.close();
      throw error;
    }
  });
}

/** The session as one whose host has Compose, which `purpose` needs; throws when it has none. */
export function requireCompose(session: HostSession, purpose: string): AppSession {
  if (session.compose) return { ...session, compose: session.compose };
  throw new OperationError(
    `${session.host.target.host} has neither 'docker compose' (v2) nor 'docker-compose' (v1) for user ${session.host.target.username}, which ${purpose} needs. Install Docker Compose on the host.`,
  );
}

/** Connects to a host that deploy-kit deploys to: Compose required. */
export async function openAppSession(ssh: SshSettings, app: string, deployPath: string, reporter: Reporter, observe?: CommandObserver): Promise<AppSession> {
  const session = await openHostSession(ssh, app, deployPath, reporter, observe);
  try {
    return requireCompose(session, 'a deploy');
  } catch (error) {
    await session.host.close();
    throw error;
  }
}

export async function readState(session: Pick<AppSession, 'host' | 'layout'>): Promise<AppState> {
  const line = readAppState(session.layout);
  return parseAppState(line.sections.read((await session.host.run(line)).stdout));
}

/** Reads the release.json of the given releases in one round trip. Missing ones are left out. */
export async function readRecords(session: Pick<AppSession, 'host' | 'layout'>, ids: readonly string[]): Promise<Map<string, ReleaseRecord>> {
  const records = new Map<string, ReleaseRecord>();
  if (ids.length === 0) return records;
  const line = inSections(ids.map((id) => [id, constant(`cat ${quote(session.layout.release(id).recordFile)} 2>/dev/null`)] as const));
  for (const text of line.sections.read((await session.host.run(line)).stdout).values()) {
    const record = parseRecord(text);
    if (record) records.set(record.id, record);
  }
  return records;
}

/** The compose project of a release as it was deployed: its files plus its pinned images. */
export function recordedProject(session: AppSession, record: ReleaseRecord): ComposeProject {
  const release = session.layout.release(record.id);
  return {
    variant: session.compose,
    name: session.app,
    directory: release.dir,
    envFile: release.envFile,
    files: [...record.composeFiles.map((name) => release.file(name)), release.imagesFile],
  };
}
