import { ConfigurationError } from '../errors.js';
import { readComposeFiles } from './compose-files.js';
import type { ReleaseSettings } from './settings.js';
import type { RunContext } from '../run-context.js';
import { parseDeployPath, parseVersion } from '../inputs/names.js';
import { InputSource, invalid, parseBoolean, parseDuration, parseFailureLogLines, parseInteger } from '../inputs/parse.js';
import { maskableParts } from '../inputs/secrets.js';
import { parseEnvInput } from '../release/env-file.js';
import { readLockOptions } from '../release/lock.js';
import type { Masker } from '../ssh/settings.js';

/** A release as it is given to action-deploy and action-preview: all but its name, gate and place. */
export type ReleaseInputs = Omit<ReleaseSettings, 'app' | 'deployPath' | 'gate'>;

/**
 * Reads the inputs every release is made of (version, compose files, env, registry, hooks,
 * waits, lock), checked and with their secrets masked: the one place both actions read them.
 */
export function readReleaseInputs(input: InputSource, mask: Masker, context: { run: RunContext; workspace: string }, defaults: { keepReleases: number } = { keepReleases: 5 }): ReleaseInputs {
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
  return {
    version: parseVersion(input('version')),
    composeFiles: compose.files,
    composeVersion: compose.version,
    env,
    registry: registryUser === '' ? undefined : { server: registryServer || 'docker.io', username: registryUser, password: registryPassword },
    preDeploy: input('pre-deploy'),
    postDeploy: input('post-deploy'),
    waitTimeoutMs: parseDuration('wait-timeout', input('wait-timeout'), '2m'),
    keepReleases: parseInteger('keep-releases', input('keep-releases'), { min: 1, max: 100 }, defaults.keepReleases),
    lock: readLockOptions(input),
    rollbackOnFailure: parseBoolean('rollback-on-failure', input('rollback-on-failure'), true),
    failureLogLines: parseFailureLogLines(input),
    dryRun: parseBoolean('dry-run', input('dry-run')),
    run: context.run,
  };
}

/** The deploy path input (`deploy-path`), checked. */
export const readDeployPath = (input: InputSource): string => parseDeployPath(input('deploy-path'));
