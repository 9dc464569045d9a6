import type { RegistryLogin } from '../deploy/settings.js';
import { dockerLogin, prepareDockerConfig, removeDockerConfig } from '../release/commands.js';
import { RemoteHost } from '../ssh/connection.js';

/** Where a swarm release logs in to its registry: a private folder of a release, and the credentials. */
export interface SwarmLogin {
  readonly configDir: string;
  readonly registry: RegistryLogin;
}

/**
 * Runs `work` with the registry login in its private DOCKER_CONFIG folder (the password on
 * standard input, never in argv) and removes the folder as soon as `work` ends, whether it
 * succeeded or not: for a swarm that is right after `docker stack deploy`, which resolves the
 * images with the login and hands it to the nodes (`--with-registry-auth`). Without a login,
 * `work` runs with none. The removal runs even after the lock was lost: it only takes back a
 * credential this run placed.
 */
export async function withRegistryLogin<T>(host: RemoteHost, login: SwarmLogin | undefined, work: (configDir: string | undefined) => Promise<T>): Promise<T> {
  if (!login) return work(undefined);
  try {
    await host.run(prepareDockerConfig(login.configDir));
    await host.run(dockerLogin(login.configDir, login.registry.server, login.registry.username), { stdin: login.registry.password });
    return await work(login.configDir);
  } finally {
    await host.run(removeDockerConfig(login.configDir), { unguarded: true }).catch(() => undefined);
  }
}
