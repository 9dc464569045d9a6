import { ConfigurationError } from '../../src/errors.js';
import { readComposeFiles } from '../../src/deploy/compose-files.js';
import type { DeploySettings, ReleaseSettings } from '../../src/deploy/settings.js';
import type { RunContext } from '../../src/run-context.js';
import { readGateSettings } from '../../src/health/settings.js';
import { parseAppName, parseDeployPath, parseVersion } from '../../src/inputs/names.js';
import { InputSource, invalid, oneOf, parseBoolean, parseDuration, parseFailureLogLines, parseInteger } from '../../src/inputs/parse.js';
import { maskableParts } from '../../src/inputs/secrets.js';
import { parseEnvInput } from '../../src/release/env-file.js';
import { readLockOptions } from '../../src/release/lock.js';
import { Masker, readSshHosts } from '../../src/ssh/settings.js';
import { parseParallel } from '../../src/fleet/batches.js';
import { readStrategySettings } from '../../src/strategy/settings.js';

/** The only place action-deploy reads its inputs: all of them, checked, before any connection. */
export function readDeployInputs(input: InputSource, mask: Masker, context: { run: RunContext; defaultApp: string; workspace: string }): DeploySettings {
  const hosts = readSshHosts(input, mask);
  const parallel = parseParallel(input('parallel'), hosts.length);
  const env = parseEnvInput(input('env'));
  for (const value of maskableParts(Object.values(env))) mask(value);
  const registryPassword = input('registry-password');
  if (registryPassword !== '') mask(registryPassword);
  const registryServer = input('registry');
  const registryUser = input('registry-username');
  if ((registryUser === '') !== (registryPassword === '')) {
    throw new ConfigurationError("Inputs 'registry-username' and 'registry-password' go together: give both, or neither for public images.");
  }
  const registryOk = /^[A-Za-z0-9][A-Za-z0-9.-]*(:\d+)?(\/[A-Za-z0-9._/-]*)?$/.test(registryServer) && !registryServer.includes('..') && registryServer.length <= 255;
  if (registryServer !== '' && !registryOk) {
    throw invalid('registry', "must be a registry host like 'ghcr.io' or 'registry.example.com:5000'", registryServer);
  }
  const compose = readComposeFiles(input('compose-file'), context.workspace);
  const target = oneOf('target', input('target'), ['compose', 'swarm'] as const, 'compose');
  if (target === 'swarm') refuseStrategyInputs(input);
  if (target === 'swarm' && hosts.length > 1) {
    throw new ConfigurationError(`Input 'host' lists ${hosts.length} hosts; with 'target: swarm' give the one manager node: Swarm places the tasks on its nodes itself.`);
  }
  const strategy = readStrategySettings(input);
  const release: ReleaseSettings = {
    app: parseAppName(input('app'), context.defaultApp),
    version: parseVersion(input('version')),
    composeFiles: compose.files,
    composeVersion: compose.version,
    env,
    deployPath: parseDeployPath(input('deploy-path')),
    registry: registryUser === '' ? undefined : { server: registryServer || 'docker.io', username: registryUser, password: registryPassword },
    preDeploy: input('pre-deploy'),
    postDeploy: input('post-deploy'),
    waitTimeoutMs: parseDuration('wait-timeout', input('wait-timeout'), '2m'),
    keepReleases: parseInteger('keep-releases', input('keep-releases'), { min: 1, max: 100 }, 5),
    lock: readLockOptions(input),
    gate: readGateSettings(input, mask, 'health-'),
    rollbackOnFailure: parseBoolean('rollback-on-failure', input('rollback-on-failure'), true),
    failureLogLines: parseFailureLogLines(input),
    dryRun: parseBoolean('dry-run', input('dry-run')),
    run: context.run,
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
