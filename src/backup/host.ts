import type { RunContext } from '../run-context.js';
import { OperationError } from '../errors.js';
import { HeldLock, LockOptions, holdLock } from '../release/lock-session.js';
import type { Reporter } from '../report.js';
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

/**
 * Takes the host's deploy lock, the one deploys and rollbacks take, so that a dump never runs
 * in the middle of a deploy (its migrations, its switch of release) and a restore never races
 * one. Waits up to 'lock-timeout' for the holder; names it when giving up.
 */
export async function takeDeployLock(
  session: BackupHost,
  settings: { readonly run: RunContext; readonly lock: LockOptions },
  operation: string,
  reporter: Reporter,
): Promise<HeldLock> {
  const owner = { run: settings.run.runUrl, actor: settings.run.actor, since: new Date().toISOString(), operation };
  return reporter.group('Take the deploy lock', async () => {
    const lock = await holdLock(session.host, session.layout.lock, owner, settings.lock, reporter);
    reporter.info(`holding ${session.layout.lock} for the ${operation}`);
    return lock;
  });
}
