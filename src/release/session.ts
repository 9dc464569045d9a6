import { ComposeProject, ComposeVariant } from '../compose/cli.js';
import { OperationError } from '../errors.js';
import { Reporter } from '../report.js';
import { constant, quote } from '../shell/quote.js';
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

/** Connects (host key first), learns the host's home and Compose, and resolves the deploy path. */
export async function openAppSession(ssh: SshSettings, app: string, deployPath: string, reporter: Reporter, observe?: CommandObserver): Promise<AppSession> {
  return reporter.group(`Connect to ${describeTarget(ssh)}`, async () => {
    const host = await RemoteHost.connect(ssh, observe);
    try {
      const facts = parseHostFacts((await host.run(probeHost)).stdout);
      if (!facts.compose) {
        throw new OperationError(`${ssh.host} has neither 'docker compose' (v2) nor 'docker-compose' (v1) for user ${ssh.username}. Install Docker Compose on the host.`);
      }
      const layout = appLayout(resolveDeployPath(deployPath || `~/deploy-kit/${app}`, facts.home));
      reporter.info(`connected; host key verified${ssh.hostKeys.insecureIgnore ? ' (NOT: insecure-ignore-host-key is set)' : ''}; Compose ${facts.compose}; deploy path ${layout.root}`);
      return { host, layout, compose: facts.compose, app };
    } catch (error) {
      await host.close();
      throw error;
    }
  });
}

export async function readState(session: AppSession): Promise<AppState> {
  return parseAppState((await session.host.run(readAppState(session.layout))).stdout);
}

/** Reads the release.json of the given releases in one round trip. Missing ones are left out. */
export async function readRecords(session: AppSession, ids: readonly string[]): Promise<Map<string, ReleaseRecord>> {
  const records = new Map<string, ReleaseRecord>();
  if (ids.length === 0) return records;
  const script = ids.map((id) => `echo @@release; cat ${quote(session.layout.release(id).recordFile)} 2>/dev/null`).join('; ');
  const { stdout } = await session.host.run(constant(`${script}; true`));
  for (const chunk of stdout.split('@@release\n').slice(1)) {
    const record = parseRecord(chunk);
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
