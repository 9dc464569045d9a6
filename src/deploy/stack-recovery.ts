import { errorMessage } from '../errors.js';
import { switchCurrent } from '../release/commands.js';
import { ReleaseRecord } from '../release/record.js';
import { readRecords } from '../release/session.js';
import { inspectStack, removeStack, serviceRollback } from '../swarm/commands.js';
import { parseStack } from '../swarm/converge.js';
import { isSwarmRecord } from '../swarm/record.js';
import { restoreSwarm } from '../swarm/restore-stack.js';
import { waitForStack } from '../swarm/wait.js';
import type { PutBack } from './recovery.js';
import type { DeployDependencies } from './result.js';
import type { HostDeploy } from './runner.js';

type SwarmDeploy = Extract<HostDeploy, { kind: 'swarm' }>;

/**
 * A swarm release that failed after its stack deploy: the previous release deployed again from
 * its folder and pinned digests (logged in again when the deploy logs in); without a record
 * of it, each service that existed before goes back with `docker service rollback`; with
 * neither, the stack is removed. Never throws.
 */
export async function putBackStack(deploy: SwarmDeploy, servicesBefore: readonly string[], deps: Pick<DeployDependencies, 'reporter' | 'checkHealth'>): Promise<PutBack> {
  const { session, settings, target } = deploy;
  const { host } = session;
  try {
    const previous = target.previousId === undefined ? undefined : (await readRecords(session, [target.previousId])).get(target.previousId);
    if (previous && isSwarmRecord(previous)) {
      const outcome = await restoreSwarm(host, target.layout, previous, settings.waitTimeoutMs, deps.reporter, deps.checkHealth, target.login);
      if (!outcome.ok) return { restored: false, text: `rolling back FAILED: release ${previous.id} (${previous.version}) did not converge: ${outcome.reason}` };
      // A failure after `current` switched (post-deploy) must not leave it naming the failed release.
      await host.run(switchCurrent(target.layout, previous.id));
      const health = outcome.healthy ? 'which is healthy' : `which is NOT healthy either (${outcome.gate?.reason || outcome.reason})`;
      return { restored: true, text: `rolled back to ${previous.version} (release ${previous.id}), ${health}` };
    }
    if (servicesBefore.length > 0) return await serviceRollbacks(deploy, servicesBefore, previous, deps);
    const removed = await host.run(removeStack(target.stack)).then(
      () => 'its stack was removed',
      (error: Error) => `removing its stack FAILED too: ${error.message}`,
    );
    const nothing =
      target.previousId === undefined
        ? 'this was the first release'
        : `release ${target.previousId} ${previous ? 'was not deployed to a swarm' : 'has no release.json'} and no stack ran before`;
    return { restored: false, text: `${nothing}, so there is nothing to roll back to: ${removed}` };
  } catch (error) {
    return { restored: false, text: `rolling back FAILED: ${errorMessage(error)}` };
  }
}

/** No swarm record of the previous release: each service that existed before goes back to its previous spec, Swarm's way. */
async function serviceRollbacks(deploy: SwarmDeploy, services: readonly string[], previous: ReleaseRecord | undefined, deps: Pick<DeployDependencies, 'reporter' | 'checkHealth'>): Promise<PutBack> {
  const { host } = deploy.session;
  const why = previous ? `release ${previous.id} was not deployed to a swarm` : 'there is no release record of what ran before';
  // A service Swarm is rolling back already (failure_action: rollback) has no previous spec left to roll back to: it is only waited for.
  const inspect = inspectStack(deploy.target.stack);
  const rolling = new Set(parseStack(deploy.target.stack, inspect.sections.read((await host.run(inspect)).stdout)).filter((s) => s.update?.state.startsWith('rollback_')).map((s) => s.name));
  deps.reporter.info(`${why}: rolling back ${services.join(', ')} with 'docker service rollback'${rolling.size > 0 ? ` (Swarm is rolling back ${[...rolling].join(', ')} already)` : ''}`);
  for (const service of services) if (!rolling.has(service)) await host.run(serviceRollback(service));
  const outcome = await waitForStack(host, deploy.target.stack, [], deploy.settings.waitTimeoutMs, deps.reporter, 'rollback');
  if (!outcome.ok) return { restored: false, text: `'docker service rollback' did not converge: ${outcome.reason}` };
  const gate = deps.checkHealth ? await deps.checkHealth(host) : undefined;
  const health = gate === undefined || gate.healthy ? 'which is healthy' : `which is NOT healthy either (${gate.reason})`;
  const how = rolling.size === services.length ? "by Swarm's own rollback" : "with 'docker service rollback'";
  return { restored: true, text: `rolled back ${how} (${why}), ${health}` };
}
