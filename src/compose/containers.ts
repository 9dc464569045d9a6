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
  /** Docker still says `starting`, but the container's own HEALTHCHECK command passed when deploy-kit ran it (see inspectContainers). */
  readonly probed: boolean;
}

export type ContainersVerdict =
  | { readonly kind: 'ready'; readonly containers: readonly ContainerView[] }
  | { readonly kind: 'waiting'; readonly reason: string; readonly containers: readonly ContainerView[] }
  | { readonly kind: 'failed'; readonly reason: string; readonly containers: readonly ContainerView[] };

/**
 * The arguments of a container's HEALTHCHECK as Docker runs them, each ended by a NUL: the
 * test's words for CMD, and the container's shell (or `/bin/sh -c`) before the text for
 * CMD-SHELL. (`docker inspect` adds a newline after it, which `head -c -1` takes off.)
 */
const HEALTHCHECK_ARGV =
  '{{range $i, $word := .Config.Healthcheck.Test}}{{if eq $i 0}}{{if eq $word "CMD-SHELL"}}' +
  '{{if $.Config.Shell}}{{range $.Config.Shell}}{{.}}{{"\\x00"}}{{end}}{{else}}/bin/sh{{"\\x00"}}-c{{"\\x00"}}{{end}}' +
  '{{end}}{{else}}{{$word}}{{"\\x00"}}{{end}}{{end}}';

/** How long deploy-kit gives a container's HEALTHCHECK command it runs itself. */
const PROBE_TIMEOUT_SECONDS = 2;

/** Runs container "$1"'s HEALTHCHECK command once with `docker exec`, bounded by `timeout` (exit 124 when it hit it). */
const PROBE =
  `timeout ${PROBE_TIMEOUT_SECONDS} sh -c ${quote(`docker inspect --format ${quote(HEALTHCHECK_ARGV)} "$1" | head -c -1 | xargs -0 docker exec "$1"`)} sh "$id" >/dev/null 2>&1`;

export interface InspectOptions {
  /** Wait on the host up to this long while a HEALTHCHECK is `starting` (0: answer at once). */
  readonly settleSeconds?: number;
  /** Run a `starting` container's HEALTHCHECK command itself (see inspectContainers). */
  readonly probe?: boolean;
  /** Containers whose probe timed out before: not probed again (their command may still run in them). */
  readonly givenUp?: readonly string[];
}

/**
 * Prints the host's time (and what the probe did), then `docker inspect` of the project's
 * containers (not one-off runs). With `settleSeconds`, first waits on the host (checking every
 * 0.1 s, up to that long) while a container's HEALTHCHECK is still `starting`: the answer
 * comes as soon as Docker decides, without a round trip per check.
 *
 * With `probe`, it does not wait for Docker to decide: Docker runs a container's first check
 * only one `interval` after it starts (30 s unless the image says otherwise), so until Docker
 * has run one, the same command is run with `docker exec`, and the container counts as healthy
 * once it passes, which is also the rule Docker turns `healthy` by. A probe that fails decides
 * nothing: Docker's own verdict is awaited then, and only Docker can call a container
 * unhealthy. A probe that times out is not repeated for that container (`docker exec` cannot
 * stop the command inside it), nor is one after Docker's first check.
 */
export function inspectContainers(project: string, options: InspectOptions = {}): ShellLine {
  const { settleSeconds = 0, probe = false, givenUp = [] } = options;
  const ids =
    `ids=$(docker ps --all --quiet --no-trunc --filter ${quote(`label=com.docker.compose.project=${project}`)}); ` +
    `probed=' '; gaveup=' ${givenUp.filter((id) => /^[0-9a-f]+$/.test(id)).join(' ')} '; `;
  const tryProbe = probe
    ? `case "$probed" in *" $id "*) continue;; esac; ` +
      `case "$gaveup" in *" $id "*) ;; *) if [ "\${entry##*:}" = 0 ]; then ${PROBE}; rc=$?; ` +
      `if [ $rc -eq 0 ]; then probed="$probed$id "; continue; elif [ $rc -eq 124 ]; then gaveup="$gaveup$id "; fi; fi;; esac; `
    : '';
  const settle =
    settleSeconds > 0
      ? `end=$(($(date +%s) + ${Math.ceil(settleSeconds)})); while [ -n "$ids" ] && [ "$(date +%s)" -lt "$end" ]; do waiting=''; ` +
        `for entry in $(docker inspect --format '{{if .State.Health}}{{if eq .State.Health.Status "starting"}}{{.Id}}:{{len .State.Health.Log}}{{end}}{{end}}' $ids 2>/dev/null); do ` +
        `id=\${entry%%:*}; ${tryProbe}waiting=1; done; [ -n "$waiting" ] || break; sleep 0.1; done; `
      : '';
  return constant(`${ids}${settle}echo "now=$(date +%s) probed=$probed gaveup=$gaveup"; if [ -n "$ids" ]; then docker inspect $ids; else echo '[]'; fi`);
}

/** inspectContainers' first line: the host's clock, and the containers the probe passed and gave up on. */
function header(stdout: string): { now: number; probed: Set<string>; givenUp: string[] } {
  const first = stdout.slice(0, stdout.indexOf('\n'));
  const ids = (text: string | undefined) => (text ?? '').split(' ').filter(Boolean);
  return {
    now: Number(/now=(\d+)/.exec(first)?.[1] ?? Date.now() / 1000),
    probed: new Set(ids(/probed=(.*?) gaveup=/.exec(first)?.[1])),
    givenUp: ids(/ gaveup=(.*)$/.exec(first)?.[1]),
  };
}

/** The containers whose probe timed out (to pass back to inspectContainers as `givenUp`). */
export const probesGivenUp = (stdout: string): string[] => header(stdout).givenUp;

interface InspectEntry {
  Id: string;
  Name: string;
  Config: { Labels?: Record<string, string>; Image?: string };
  State: { Status: string; ExitCode: number; StartedAt: string; Health?: { Status: string } };
  RestartCount: number;
  HostConfig?: { RestartPolicy?: { Name?: string } };
}

export function parseContainers(stdout: string): ContainerView[] {
  const newline = stdout.indexOf('\n');
  const { now, probed } = header(stdout);
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
        probed: e.State.Health?.Status === 'starting' && probed.has(e.Id),
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
    if (c.health !== undefined && c.health !== 'healthy' && !c.probed) return { kind: 'waiting', reason: `container ${c.name} is ${c.health}`, containers };
    if (c.health === undefined && c.runningSeconds < stableSeconds) {
      return { kind: 'waiting', reason: `container ${c.name} running for ${Math.floor(c.runningSeconds)}s of ${stableSeconds}s`, containers };
    }
  }
  return { kind: 'ready', containers };
}
