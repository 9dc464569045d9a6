import { OperationError } from '../errors.js';
import { HostSession, openHostSession, readRecords, readState, recordedProject, requireCompose } from '../release/session.js';
import { describeTarget } from '../ssh/settings.js';
import { PgRunner, onHost } from './commands.js';

/**
 * The host a backup is taken on. Unlike a deploy, a backup of a database the host runs
 * itself (pg_dump against a URL, or a user's command) needs no Docker Compose there, so
 * Compose is asked for only for `compose-service`.
 */
export type BackupHost = HostSession;
export const openBackupHost = openHostSession;

/** Where pg_dump/pg_restore run: on the host, or in `service`'s container of the app's current release. */
export async function pgRunner(session: BackupHost, service: string | undefined): Promise<PgRunner> {
  if (service === undefined) return onHost;
  const where = describeTarget(session.host.target);
  const app = requireCompose(session, `'compose-service: ${service}'`);
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
