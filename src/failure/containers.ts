import { quote } from '../shell/quote.js';
import { SectionedLine, Sections } from '../shell/sections.js';
import type { Suspect } from './suspect.js';

/**
 * What a failed release's containers were doing when it failed: Docker's state of each
 * (`docker inspect`: exit code, OOM kill, restarts, the last outputs of its HEALTHCHECK) and
 * the last lines of its logs, read in one round trip before anything is removed or restored.
 */

export type ContainerSection = 'inspect' | `logs-${string}`;

/** Which containers: a compose project's (not one-off runs), or the named ones only (a rolling deploy's new containers). */
export interface ContainerScope {
  readonly project: string;
  readonly names?: readonly string[];
}

/** How many outputs of a HEALTHCHECK are shown (Docker keeps the last five). */
const HEALTH_OUTPUTS = 3;

/** `docker inspect` of the containers in scope, then `docker logs --timestamps --tail N` of each, in sections. */
export function describeContainers(scope: ContainerScope, logLines: number): SectionedLine<ContainerSection> {
  const sections = new Sections<ContainerSection>();
  const ids = scope.names
    ? `ids=$(docker inspect --format '{{.Id}}' ${scope.names.map(quote).join(' ')} 2>/dev/null)`
    : `ids=$(docker ps --all --quiet --no-trunc --filter ${quote(`label=com.docker.compose.project=${scope.project}`)})`;
  const inspect = `${sections.start('inspect').text}; if [ -n "$ids" ]; then docker inspect $ids; else echo '[]'; fi`;
  const logs = logLines > 0 ? `; for id in $ids; do ${sections.startEach('logs', 'id').text}; docker logs --timestamps --tail ${logLines} "$id" 2>&1; done` : '';
  return { text: `${ids}; ${inspect}${logs}; true`, sections };
}

interface InspectEntry {
  Id: string;
  Name: string;
  Config?: { Labels?: Record<string, string> };
  State: {
    Status: string;
    ExitCode: number;
    OOMKilled?: boolean;
    Error?: string;
    Health?: { Status: string; FailingStreak?: number; Log?: { Start: string; ExitCode: number; Output: string }[] | null };
  };
  RestartCount: number;
  HostConfig?: { Memory?: number };
}

/** The containers of describeContainers' output as suspects, those that are not healthy first. */
export function parseContainerSuspects(stdout: string, sections: Sections<ContainerSection>): Suspect[] {
  const read = sections.read(stdout);
  const entries = JSON.parse(read.get('inspect')?.trim() || '[]') as InspectEntry[];
  return entries
    .filter((e) => e.Config?.Labels?.['com.docker.compose.oneoff'] !== 'True')
    .map((e) => containerSuspect(e, read.get(`logs-${e.Id}`)))
    .sort((a, b) => Number(b.unhealthy) - Number(a.unhealthy) || a.name.localeCompare(b.name));
}

function containerSuspect(e: InspectEntry, logs: string | undefined): Suspect {
  const { State: state } = e;
  const health = state.Health?.Status;
  const oom = state.OOMKilled === true;
  const crashed = (state.Status === 'exited' || state.Status === 'dead') && state.ExitCode !== 0;
  const unhealthy = oom || crashed || e.RestartCount > 0 || ['restarting', 'created', 'dead', 'paused'].includes(state.Status) || (health !== undefined && health !== 'healthy');
  const checks = (state.Health?.Log ?? []).slice(-HEALTH_OUTPUTS).map((entry) => `${entry.Start.replace(/\.\d+/, '')} exit ${entry.ExitCode}: ${entry.Output.trim().replace(/\s*\n\s*/g, ' / ')}`);
  const limit = e.HostConfig?.Memory ? ` (memory limit ${Math.round(e.HostConfig.Memory / 1024 / 1024)} MiB)` : '';
  const status = oom
    ? `was killed for running out of memory${limit}`
    : crashed
      ? `exited with code ${state.ExitCode}`
      : state.Status === 'restarting' || (e.RestartCount > 0 && state.Status !== 'running')
        ? `keeps restarting (exit code ${state.ExitCode}, ${e.RestartCount} restarts)`
        : health === 'unhealthy'
          ? 'is unhealthy'
          : health === 'starting'
            ? 'never became healthy'
            : `is ${state.Status}${e.RestartCount > 0 ? ` after ${e.RestartCount} restarts` : ''}`;
  return {
    name: e.Name.replace(/^\//, ''),
    service: e.Config?.Labels?.['com.docker.compose.service'] ?? '',
    unhealthy,
    status,
    facts: [
      ['state', state.Status],
      ['exit code', String(state.ExitCode)],
      ['OOM-killed', oom ? 'yes' : 'no'],
      ['restarts', String(e.RestartCount)],
      ...(health ? [['health', health] as [string, string]] : []),
      ...(state.Error ? [['error', state.Error] as [string, string]] : []),
    ],
    // A running container's failing health check says most; a stopped one's logs do (its last checks only say it stopped).
    clueFromChecks: state.Status === 'running' && (health === 'unhealthy' || health === 'starting'),
    checks,
    logs: inTimeOrder(logLines(logs)),
  };
}

/** A `docker logs --timestamps` line's timestamp with its fraction padded to nanoseconds, so that text order is time order. */
function sortKey(line: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z/.exec(line);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}` : '';
}

/**
 * Log lines in the order they were written. `docker logs` sends a container's stdout and
 * stderr lines to its own two streams, which arrive here interleaved as they were read, not
 * as they were written: an error line may come before the line printed just ahead of it.
 * Their timestamps give the order back (a stable sort keeps lines without one in place).
 */
export function inTimeOrder(lines: readonly string[]): string[] {
  if (!lines.every((line) => sortKey(line) !== '')) return [...lines];
  return [...lines].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

/** A command's output as lines, without the empty one its last newline leaves. */
export function logLines(text: string | undefined): string[] {
  if (!text) return [];
  const lines = text.replace(/\r/g, '').split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines;
}
