import { Command, ShellLine, allOf, constant, inDirectory, quote, shellLine, userScript, withEnv } from '../shell/quote.js';
import { SectionedLine, inSections } from '../shell/sections.js';

/**
 * Builders for the commands a swarm release runs on the manager. They return commands;
 * `RemoteHost` runs them. Every value reaches the shell through src/shell/quote.ts.
 */

/**
 * `active true` on a swarm manager (its node state and whether it can take control-plane
 * requests), and on a second line the Docker CLI's version, which decides how the release's
 * files are written (see stackNeedsFileVersion).
 */
export const swarmNodeState: ShellLine = constant(
  `docker info --format ${quote('{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')}; docker version --format ${quote('{{.Client.Version}}')} 2>/dev/null || true`,
);

/** What swarmNodeState printed. */
export function parseNodeState(stdout: string): { state: string; cliVersion: string } {
  const [state = '', cliVersion = ''] = stdout.split('\n').map((line) => line.trim());
  return { state, cliVersion };
}

export interface StackFiles {
  readonly stack: string;
  /** The release folder: compose files' relative paths resolve against it. */
  readonly directory: string;
  /** Absolute paths on the host, applied in order as `-c a -c b`. */
  readonly files: readonly string[];
  /** The release's `export NAME=value` script, sourced so variables reach substitution without argv. */
  readonly envScript: string;
}

/**
 * `cd DIR && . ENV_SCRIPT && docker stack deploy --with-registry-auth --prune -c ... STACK`.
 * The values live in the 0600 script; the command line only names it, so `ps` shows no secret.
 * `--with-registry-auth` hands the login in `configDir` (when given) to the swarm's nodes.
 */
export function stackDeploy(stack: StackFiles, configDir?: string): ShellLine {
  const deploy: Command = ['docker', 'stack', 'deploy', '--with-registry-auth', '--prune', ...stack.files.flatMap((file) => ['-c', file]), stack.stack];
  const sourced = constant(`. ${quote(stack.envScript)}`);
  return inDirectory(stack.directory, allOf(sourced, configDir ? withEnv({ DOCKER_CONFIG: configDir }, deploy) : shellLine(deploy)));
}

export type StackSection = 'services' | 'replicas' | 'tasks';

/** One round trip: every service of the stack (`docker service inspect`), its replica counts, and its tasks. */
export function inspectStack(stack: string): SectionedLine<StackSection> {
  const label = quote(`label=com.docker.stack.namespace=${stack}`);
  const json = quote('{{json .}}');
  return inSections<StackSection>([
    ['services', constant(`ids=$(docker service ls --quiet --filter ${label}); if [ -n "$ids" ]; then docker service inspect $ids; else echo '[]'; fi`)],
    ['replicas', constant(`docker service ls --filter ${label} --format ${json}`)],
    ['tasks', constant(`docker stack ps ${quote(stack)} --no-trunc --format ${json} 2>/dev/null`)],
  ]);
}

/** Swarm's own rollback of one service to its previous spec, without waiting (convergence is polled). */
export const serviceRollback = (service: string): Command => ['docker', 'service', 'rollback', '--detach', service];

export const removeStack = (stack: string): Command => ['docker', 'stack', 'rm', stack];

/** A user's hook in the release folder, with the release and the stack in its environment. */
export function swarmHook(directory: string, script: string, release: { id: string; version: string; stack: string }): ShellLine {
  const env = { RELEASE_ID: release.id, VERSION: release.version, RELEASE_DIR: directory, DEPLOY_KIT_STACK: release.stack };
  return inDirectory(directory, withEnv(env, userScript(script)));
}

export const readFile = (path: string): Command => ['cat', '--', path];
