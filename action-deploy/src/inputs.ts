import { ConfigurationError } from '../../src/errors.js';
import { readComposeFiles } from '../../src/deploy/compose-files.js';
import type { DeploySettings, RunContext } from '../../src/deploy/settings.js';
import { readGateSettings } from '../../src/health/settings.js';
import { parseAppName, parseDeployPath, parseVersion } from '../../src/inputs/names.js';
import { InputSource, invalid, parseBoolean, parseDuration, parseInteger } from '../../src/inputs/parse.js';
import { parseEnvInput } from '../../src/release/env-file.js';
import { Masker, readSshSettings } from '../../src/ssh/settings.js';
import { readStrategySettings } from '../../src/strategy/settings.js';

/** The only place action-deploy reads its inputs: all of them, checked, before any connection. */
export function readDeployInputs(input: InputSource, mask: Masker, context: { run: RunContext; defaultApp: string; workspace: string }): DeploySettings {
  const ssh = readSshSettings(input, mask);
  const env = parseEnvInput(input('env'));
  for (const value of Object.values(env)) if (value.length >= 4) mask(value);
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
  const strategy = readStrategySettings(input);
  return {
    ssh,
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
    lock: {
      timeoutMs: parseDuration('lock-timeout', input('lock-timeout'), '0'),
      staleAfterMs: parseDuration('lock-stale-after', input('lock-stale-after'), '10m'),
      breakStale: parseBoolean('break-stale-lock', input('break-stale-lock')),
    },
    gate: readGateSettings(input, mask, 'health-'),
    rollbackOnFailure: parseBoolean('rollback-on-failure', input('rollback-on-failure'), true),
    dryRun: parseBoolean('dry-run', input('dry-run')),
    run: context.run,
    ...(strategy ? { strategy } : {}),
  };
}
