import type { ComposeVariant } from '../compose/cli.js';
import { OperationError } from '../errors.js';
import { AppLayout, appLayout, resolveDeployPath } from '../release/layout.js';
import { AppSession, readRecords, readState, recordedProject } from '../release/session.js';
import { parseHostFacts, probeHost } from '../release/state.js';
import type { Reporter } from '../report.js';
import { CommandObserver, RemoteHost } from '../ssh/connection.js';
import { SshSettings, describeTarget } from '../ssh/settings.js';
import { PgRunner, onHost } from './commands.js';

/**
 * The host a backup is taken on. Unlike a deploy, a backup of a database the host runs
 * itself (pg_dump against a URL, or a user's command) needs no Docker Compose there, so this
 * opens the connection like `openAppSession` but asks for Compose only for `compose-service`.
 */
export interface BackupHost {
  readonly host: RemoteHost;
  readonly layout: AppLayout;
  readonly compose: ComposeVariant | undefined;
  readonly app: string;
}

export async function openBackupHost(ssh: SshSettings, app: string, deployPath: string, reporter: Reporter, observe?: CommandObserver): Promise<BackupHost> {
  return reporter.group(`Connect to ${describeTarget(ssh)}`, async () => {
    const host = await RemoteHost.connect(ssh, observe);
    try {
      const facts = parseHostFacts((await host.run(probeHost)).stdout);
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

/** Where pg_dump/pg_restore run: on the host, or in `service`'s container of the app's current release. */
export async function pgRunner(session: BackupHost, service: string | undefined): Promise<PgRunner> {
  if (service === undefined) return onHost;
  const where = describeTarget(session.host.target);
  if (!session.compose) {
    throw new OperationError(`'compose-service: ${service}' needs Docker Compose on ${where}, which has neither 'docker compose' nor 'docker-compose'.`);
  }
  const app: AppSession = { host: session.host, layout: session.layout, compose: session.compose, app: session.app };
  const state = await readState(app);
  const record = state.current ? (await readRecords(app, [state.current])).get(state.current) : undefined;
  if (!record) {
    throw new OperationError(
      `'compose-service: ${service}' runs pg_dump in the app's running stack, but ${session.layout.root} on ${where} has no current release. ` +
        `Deploy ${session.app} with action-deploy first (same 'app' and 'deploy-path'), or use 'postgres-url' alone to dump with the host's pg_dump.`,
    );
  }
  return { kind: 'compose', project: recordedProject(app, record), service };
}
