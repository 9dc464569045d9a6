import { ConfigurationError } from '../../src/errors.js';
import { readDeployPath, readReleaseInputs } from '../../src/deploy/release-inputs.js';
import type { DeploySettings, ReleaseSettings } from '../../src/deploy/settings.js';
import type { RunContext } from '../../src/run-context.js';
import { readGateSettings } from '../../src/health/settings.js';
import { parseAppName } from '../../src/inputs/names.js';
import { InputSource, oneOf } from '../../src/inputs/parse.js';
import { Masker, readSshHosts } from '../../src/ssh/settings.js';
import { parseParallel } from '../../src/fleet/batches.js';
import { readStrategySettings } from '../../src/strategy/settings.js';

/** The only place action-deploy reads its inputs: all of them, checked, before any connection. */
export function readDeployInputs(input: InputSource, mask: Masker, context: { run: RunContext; defaultApp: string; workspace: string }): DeploySettings {
  const hosts = readSshHosts(input, mask);
  const parallel = parseParallel(input('parallel'), hosts.length);
  const target = oneOf('target', input('target'), ['compose', 'swarm'] as const, 'compose');
  if (target === 'swarm') refuseStrategyInputs(input);
  if (target === 'swarm' && hosts.length > 1) {
    throw new ConfigurationError(`Input 'host' lists ${hosts.length} hosts; with 'target: swarm' give the one manager node: Swarm places the tasks on its nodes itself.`);
  }
  const strategy = readStrategySettings(input);
  const release: ReleaseSettings = {
    ...readReleaseInputs(input, mask, context),
    app: parseAppName(input('app'), context.defaultApp),
    deployPath: readDeployPath(input),
    gate: readGateSettings(input, mask, 'health-'),
  };
  const ssh = hosts[0]!;
  if (target === 'swarm') return { ...release, target, ssh };
  const how = strategy ? { strategy } : {};
  return hosts.length > 1 ? { ...release, target: 'fleet', hosts, parallel, ...how } : { ...release, target: 'compose', ssh, ...how };
}

/** With `target: swarm`, Swarm's update_config replaces tasks; the compose target's strategy inputs would mean nothing. */
function refuseStrategyInputs(input: InputSource): void {
  const given = [
    ['strategy', !['', 'recreate'].includes(input('strategy'))],
    ['services', input('services') !== ''],
    ['switch-command', input('switch-command') !== ''],
    ['keep-previous-running', !/^(|false|no|off|0)$/i.test(input('keep-previous-running'))],
  ] as const;
  const name = given.find(([, set]) => set)?.[0];
  if (name) {
    throw new ConfigurationError(`Input '${name}' is for 'target: compose'; with 'target: swarm', Swarm's update_config (order: start-first, failure_action: rollback) replaces services without downtime. Remove '${name}'.`);
  }
}
