import type { HealthCheck } from '../health/types.js';
import { AppLayout } from '../release/layout.js';
import type { RestoreOutcome } from '../release/activate.js';
import { Reporter } from '../report.js';
import { RemoteHost } from '../ssh/connection.js';
import { stackDeploy } from './commands.js';
import { SwarmLogin, withRegistryLogin } from './login.js';
import { SwarmRecord, releaseStack } from './record.js';
import { waitForStack } from './wait.js';

/**
 * Puts a swarm release back exactly as it was deployed: its compose files, its update_config
 * defaults and its images pinned by digest, deployed again as the same stack from its own
 * folder with its own variables (logged in to the registry again when `login` is given, the
 * login removed right after); then waits for every service to converge and gates it.
 * Behind action-deploy's automatic rollback of a swarm release and action-rollback.
 */
export async function restoreSwarm(
  host: RemoteHost,
  layout: AppLayout,
  record: SwarmRecord,
  timeoutMs: number,
  reporter: Reporter,
  checkHealth?: HealthCheck,
  login?: SwarmLogin,
): Promise<RestoreOutcome> {
  reporter.info(`deploying release ${record.id} (${record.version}) again as stack ${record.stack}, from its pinned images`);
  await withRegistryLogin(host, login, (configDir) => host.run(stackDeploy(releaseStack(layout, record.stack, record.id, record.composeFiles, true), configDir)));
  const converged = await waitForStack(host, record.stack, Object.keys(record.images), timeoutMs, reporter);
  const gate = converged.ok && checkHealth ? await checkHealth(host) : undefined;
  return { ok: converged.ok, reason: converged.reason, containers: [], gate, healthy: converged.ok && (gate?.healthy ?? true) };
}
