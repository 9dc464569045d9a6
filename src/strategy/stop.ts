import { ShellLine, constant, quote } from '../shell/quote.js';

/**
 * Stops a compose project's containers with plain `docker` (no compose files needed, so it
 * works for any earlier release): `docker stop` waits each container's own stop timeout,
 * which Compose sets from `stop_grace_period`, so in-flight requests finish. Then, unless
 * `keep`, removes the containers and the project's networks.
 */
export function stopProject(project: string, keep: boolean): ShellLine {
  const label = quote(`label=com.docker.compose.project=${project}`);
  const ids = `ids=$(docker ps --all --quiet --filter ${label})`;
  const stop = 'if [ -n "$ids" ]; then docker stop $ids >/dev/null; fi';
  if (keep) return constant(`${ids}; ${stop}`);
  const remove = 'if [ -n "$ids" ]; then docker rm --force $ids >/dev/null; fi';
  const networks = `docker network ls --quiet --filter ${label} | xargs -r docker network rm >/dev/null 2>&1 || true`;
  return constant(`${ids}; ${stop} && ${remove}; ${networks}`);
}
