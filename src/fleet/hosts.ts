import { OperationError, errorMessage } from '../errors.js';
import { HeldLock, LockOptions, holdLock } from '../release/lock-session.js';
import type { LockOwner } from '../release/lock.js';
import { AppSession, openAppSession } from '../release/session.js';
import { Reporter, labelledReporter } from '../report.js';
import { CommandObserver } from '../ssh/connection.js';
import type { SshSettings } from '../ssh/settings.js';

/** One host of a fleet, connected, with the label its log lines carry. */
export interface FleetHost {
  readonly label: string;
  readonly ssh: SshSettings;
  readonly session: AppSession;
}

/** How a host is named in logs and summaries: its name, and its port when that is not 22. */
export const hostLabel = (ssh: Pick<SshSettings, 'host' | 'port'>): string => (ssh.port === 22 ? ssh.host : `${ssh.host}:${ssh.port}`);

/**
 * Opens one SSH connection per host, all at once, so a dead host costs `connect-timeout` and
 * stalls no other. If any host cannot be reached, the others are closed and nothing has changed.
 */
export async function connectAll(
  hosts: readonly SshSettings[],
  app: { readonly app: string; readonly deployPath: string },
  reporter: Reporter,
  observe?: CommandObserver,
): Promise<FleetHost[]> {
  return reporter.group(`Connect to ${hosts.length} hosts`, async () => {
    const attempts = await Promise.allSettled(
      hosts.map(async (ssh): Promise<FleetHost> => {
        const label = hostLabel(ssh);
        return { label, ssh, session: await openAppSession(ssh, app.app, app.deployPath, labelledReporter(reporter, label), observe) };
      }),
    );
    const connected = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const failures = attempts.flatMap((a, i) => (a.status === 'rejected' ? [`${hostLabel(hosts[i]!)}: ${errorMessage(a.reason)}`] : []));
    if (failures.length > 0) {
      await Promise.all(connected.map((h) => h.session.host.close()));
      throw new OperationError(`Could not reach ${failures.length} of ${hosts.length} hosts, so nothing was changed on any host. ${failures.join(' ')}`);
    }
    return connected;
  });
}

/** Takes the deploy lock on every host before any host changes; if one is held, releases the rest and nothing starts. */
export async function lockAll(fleet: readonly FleetHost[], owner: Omit<LockOwner, 'token'>, options: LockOptions, reporter: Reporter): Promise<HeldLock[]> {
  return reporter.group(`Lock ${fleet.length} hosts`, async () => {
    const attempts = await Promise.allSettled(fleet.map((h) => holdLock(h.session.host, h.session.layout.lock, owner, options, labelledReporter(reporter, h.label))));
    const held = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const refused = attempts.flatMap((a) => (a.status === 'rejected' ? [errorMessage(a.reason)] : []));
    if (refused.length > 0) {
      await Promise.all(held.map((lock) => lock.release()));
      throw new OperationError(`Nothing was started on any host: ${refused.join(' ')}`);
    }
    reporter.info(`locked ${fleet.map((h) => h.label).join(', ')}`);
    return held;
  });
}
