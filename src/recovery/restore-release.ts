import type { HealthCheck } from '../health/types.js';
import { Reporter } from '../report.js';
import { restoreBlueGreen, restoreRolling } from '../strategy/restore-by-strategy.js';
import { isSwarmRecord } from '../swarm/record.js';
import { restoreSwarm } from '../swarm/restore-stack.js';
import { RestoreOutcome, startAndWait } from '../release/activate.js';
import { ReleaseRecord } from '../release/record.js';
import { AppSession, recordedProject } from '../release/session.js';

/**
 * Starts a recorded release exactly as it was deployed (its compose files, its .env, its
 * images pinned by digest, all already on the host), waits for it, and checks its health.
 * The one restore path behind action-rollback and action-deploy's automatic rollback.
 */
export async function restoreRelease(
  session: AppSession,
  record: ReleaseRecord,
  timeoutMs: number,
  reporter: Reporter,
  checkHealth?: HealthCheck,
): Promise<RestoreOutcome> {
  if (isSwarmRecord(record)) return restoreSwarm(session.host, session.layout, record, timeoutMs, reporter, checkHealth);
  if (record.strategy === 'blue-green') {
    return restoreBlueGreen(session.host, session.layout.root, record, recordedProject(session, record), timeoutMs, reporter, checkHealth);
  }
  if (record.strategy === 'rolling') {
    return restoreRolling(session.host, record, recordedProject(session, record), timeoutMs, reporter, checkHealth);
  }
  reporter.info(`starting release ${record.id} (${record.version}) from its pinned images`);
  const containers = await startAndWait(session.host, recordedProject(session, record), timeoutMs, reporter, { probe: true });
  const gate = containers.ok && checkHealth ? await checkHealth(session.host) : undefined;
  return { ...containers, gate, healthy: containers.ok && (gate?.healthy ?? true) };
}
