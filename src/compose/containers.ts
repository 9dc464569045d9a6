import { ShellLine, constant, quote } from '../shell/quote.js';

/**
 * Whether a compose project's containers are up: healthy where they have a HEALTHCHECK,
 * otherwise running and stable (no restart for `stableSeconds`). Pure evaluation of
 * `docker inspect` output, timed with the host's clock.
 */
export interface ContainerView {
  readonly name: string;
  readonly service: string;
  readonly state: string;
  readonly health: string | undefined;
  readonly exitCode: number;
  readonly restarts: number;
  readonly runningSeconds: number;
  readonly image: string;
}

export type ContainersVerdict =
  | { readonly kind: 'ready'; readonly containers: readonly ContainerView[] }
  | { readonly kind: 'waiting'; readonly reason: string; readonly containers: readonly ContainerView[] }
  | { readonly kind: 'failed'; readonly reason: string; readonly containers: readonly ContainerView[] };

/**
 * Prints the host's time, then `docker inspect` of the project's containers (not one-off
 * runs). With `settleSeconds`, first waits on the host (checking every 0.1 s, up to that long)
 * while a container's HEALTHCHECK is still `starting`: the answer comes as soon as Docker
 * decides, without a round trip per check.
 */
export function inspectContainers(project: string, settleSeconds = 0): ShellLine {
  const ids = `ids=$(docker ps --all --quiet --no-trunc --filter ${quote(`label=com.docker.compose.project=${project}`)}); `;
  const settle =
    settleSeconds > 0
      ? `i=0; while [ -n "$ids" ] && [ $i -lt ${Math.round(settleSeconds * 10)} ] && docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{end}}' $ids 2>/dev/null | grep -qx starting; do sleep 0.1; i=$((i+1)); done; `
      : '';
  return constant(`${ids}${settle}echo "now=$(date +%s)"; if [ -n "$ids" ]; then docker inspect $ids; else echo '[]'; fi`);
}

interface InspectEntry {
  Name: string;
  Config: { Labels?: Record<string, string>; Image?: string };
  State: { Status: string; ExitCode: number; StartedAt: string; Health?: { Status: string } };
  RestartCount: number;
  HostConfig?: { RestartPolicy?: { Name?: string } };
}

export function parseContainers(stdout: string): ContainerView[] {
  const newline = stdout.indexOf('\n');
  const now = Number(/now=(\d+)/.exec(stdout.slice(0, newline))?.[1] ?? Date.now() / 1000);
  const entries = JSON.parse(stdout.slice(newline + 1) || '[]') as InspectEntry[];
  return entries
    .filter((e) => e.Config.Labels?.['com.docker.compose.oneoff'] !== 'True')
    .map((e) => {
      const started = Date.parse(e.State.StartedAt) / 1000;
      const restarting = e.HostConfig?.RestartPolicy?.Name;
      return {
        name: e.Name.replace(/^\//, ''),
        service: e.Config.Labels?.['com.docker.compose.service'] ?? '',
        state: e.State.Status === 'exited' && restarting && restarting !== 'no' ? 'restarting' : e.State.Status,
        health: e.State.Health?.Status,
        exitCode: e.State.ExitCode,
        restarts: e.RestartCount,
        runningSeconds: Number.isFinite(started) && started > 0 ? Math.max(0, now - started) : 0,
        image: e.Config.Image ?? '',
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function judgeContainers(containers: readonly ContainerView[], stableSeconds: number): ContainersVerdict {
  if (containers.length === 0) return { kind: 'waiting', reason: 'no containers yet', containers };
  for (const c of containers) {
    if ((c.state === 'exited' || c.state === 'dead') && c.exitCode !== 0) {
      return { kind: 'failed', reason: `container ${c.name} exited with code ${c.exitCode}`, containers };
    }
    if (c.health === 'unhealthy') return { kind: 'failed', reason: `container ${c.name} unhealthy`, containers };
  }
  for (const c of containers) {
    if (c.state === 'exited') continue; // a one-shot job that finished with 0
    if (c.state === 'restarting') return { kind: 'waiting', reason: `container ${c.name} is restarting (${c.restarts} restarts)`, containers };
    if (c.state !== 'running') return { kind: 'waiting', reason: `container ${c.name} is ${c.state}`, containers };
    if (c.health !== undefined && c.health !== 'healthy') return { kind: 'waiting', reason: `container ${c.name} is ${c.health}`, containers };
    if (c.health === undefined && c.runningSeconds < stableSeconds) {
      return { kind: 'waiting', reason: `container ${c.name} running for ${Math.floor(c.runningSeconds)}s of ${stableSeconds}s`, containers };
    }
  }
  return { kind: 'ready', containers };
}
