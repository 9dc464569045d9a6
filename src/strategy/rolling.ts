import { parse } from 'yaml';
import { ComposeProject, compose } from '../compose/cli.js';
import type { ComposeFileInput, ComposeDeploySettings } from '../deploy/settings.js';
import type { Phase, Step } from '../deploy/steps.js';
import { ConfigurationError } from '../errors.js';
import { Command, ShellLine, constant, quote, toCompletion } from '../shell/quote.js';
import { DISCOVERY_SECONDS, RollAction } from './types.js';

/**
 * rolling: for proxies that find containers by themselves (Traefik, Caddy with dynamic
 * upstreams, HAProxy with DNS). Each traffic service in turn is scaled to its running count
 * plus N new containers of the new release (`up --no-recreate --scale`), the new ones are
 * waited on (HEALTHCHECK) and gated directly, and only then the old ones are stopped one at a
 * time with their own stop timeout (`stop_grace_period`) and removed. The other services are then
 * recreated as usual by one `up`.
 */

const label = (name: string, value: string): string => `label=com.docker.compose.${name}=${value}`;

/**
 * Traffic services of a rolling deploy: `services` when given, else every service that has
 * `ports` or `expose` in any of the compose files (in order of first appearance).
 */
export function rollingServices(files: readonly ComposeFileInput[], services: readonly string[]): string[] {
  if (services.length > 0) return [...services];
  const found: string[] = [];
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parse(file.content);
    } catch {
      continue; // Compose reports a broken file itself, with its own words.
    }
    const entries = (doc as { services?: Record<string, unknown> } | null)?.services ?? {};
    for (const [name, service] of Object.entries(entries)) {
      const s = service as { ports?: unknown; expose?: unknown } | null;
      if (s && (s.ports !== undefined || s.expose !== undefined) && !found.includes(name)) found.push(name);
    }
  }
  if (found.length === 0) {
    throw new ConfigurationError(
      "'strategy: rolling' found no service that carries traffic: none has 'ports' or 'expose'. Name them in input 'services', or give the service your proxy reaches 'expose: [\"8080\"]'.",
    );
  }
  return found;
}

/**
 * How many containers the compose files ask of a service (`deploy.replicas` or `scale`, the
 * last file that says wins); undefined when they do not say, or say it with a variable.
 */
export function declaredReplicas(files: readonly ComposeFileInput[], service: string): number | undefined {
  let replicas: number | undefined;
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parse(file.content);
    } catch {
      continue;
    }
    const s = (doc as { services?: Record<string, { deploy?: { replicas?: unknown }; scale?: unknown } | null> } | null)?.services?.[service];
    for (const value of [s?.scale, s?.deploy?.replicas]) {
      if (typeof value === 'number' && Number.isInteger(value) && value >= 1) replicas = value;
    }
  }
  return replicas;
}

/** `name state` of every container of one service of a project, running or not. */
export function listServiceContainers(project: string, service: string): Command {
  return ['docker', 'ps', '--all', '--filter', label('project', project), '--filter', label('service', service), '--format', '{{.Names}} {{.State}}'];
}

/** Parses `listServiceContainers` output into running and other (stopped, created) container names. */
export function parseServiceContainers(stdout: string): { running: string[]; stopped: string[] } {
  const running: string[] = [];
  const stopped: string[] = [];
  for (const line of stdout.split('\n')) {
    const [name, state] = line.trim().split(/\s+/);
    if (!name) continue;
    (state === 'running' ? running : stopped).push(name);
  }
  return { running: running.sort(), stopped: stopped.sort() };
}

/** `up --detach --no-recreate --scale svc=TOTAL svc`: new containers beside the running ones, which are left alone. */
export const scaleUp = (project: ComposeProject, service: string, total: number): ShellLine =>
  toCompletion(compose(project, 'up', '--detach', '--no-recreate', '--scale', `${service}=${total}`, service));

/**
 * Stops one container with its own stop timeout (Compose sets it from `stop_grace_period`,
 * 10 s when unset), so that the proxy's requests in flight finish, then removes it.
 */
export function retireContainer(name: string): ShellLine {
  return constant(`docker stop ${quote(name)} >/dev/null && docker rm ${quote(name)} >/dev/null`);
}

/** Removes containers at once (new containers that never got healthy, or stopped leftovers). */
export const removeContainers = (names: readonly string[]): Command => ['docker', 'rm', '--force', ...names];

/** The final `up`: the other services are recreated as usual, rolled services stay at their count. */
export const settleProject = (project: ComposeProject, scales: Readonly<Record<string, number>>): ShellLine =>
  toCompletion(compose(project, 'up', '--detach', '--remove-orphans', ...Object.entries(scales).flatMap(([service, n]) => ['--scale', `${service}=${n}`])));

/**
 * What the runner does for one rolling step; the container names it learns on the host are
 * kept between steps. `start` starts `replicas` new containers (what the compose files ask),
 * else as many as run now (at least 1).
 */

export interface RollingTarget {
  /** The new release's project with its pinned images (named `<app>`, the project recreate uses too). */
  readonly pinned: ComposeProject;
}

/** The phases between "images pulled" and "current switched" for rolling. */
export function planRolling(settings: ComposeDeploySettings, services: readonly string[], t: RollingTarget): Phase[] {
  const roll = (action: RollAction, service: string): Step => {
    const replicas = action === 'start' ? declaredReplicas(settings.composeFiles, service) : undefined;
    return { kind: 'roll', action, service, project: t.pinned, timeoutMs: settings.waitTimeoutMs, ...(replicas !== undefined ? { replicas } : {}) };
  };
  const phases: Phase[] = [];
  services.forEach((service, i) => {
    phases.push(
      {
        name: `Start new ${service} beside the old`,
        steps: [...(i === 0 ? [{ kind: 'overlap', edge: 'start' } as const] : []), roll('start', service)],
        undo: [roll('remove-new', service)],
      },
      { name: `Wait for new ${service}`, steps: [roll('wait', service)] },
    );
    if (i === 0 && settings.gate) phases.push({ name: `Health gate on new ${service}, directly`, steps: [roll('gate', service)] });
    phases.push({
      name: `Retire old ${service}`,
      changesContainers: true,
      steps: [{ kind: 'run', command: ['sleep', String(DISCOVERY_SECONDS)] }, roll('retire', service), ...(i === services.length - 1 ? [{ kind: 'overlap', edge: 'end' } as const] : [])],
    });
  });
  phases.push({ name: 'Start the other services', changesContainers: true, steps: [roll('settle', services[0]!)] });
  return phases;
}

/** How a step reads in a dry run. */
export function describeRoll(action: RollAction, service: string, project: ComposeProject): string {
  switch (action) {
    case 'start':
      return `start new ${service} containers beside the running ones (as many as the compose files ask, else as run now, at least 1): $ docker compose ... up --detach --no-recreate --scale ${service}=<running+new> ${service}`;
    case 'wait':
      return `wait until the new ${service} containers are healthy, or running and stable`;
    case 'gate':
      return `health gate on a new ${service} container directly (its published port, or its address on the ${project.name} network)`;
    case 'retire':
      return `stop the old ${service} containers one at a time (each waits its stop_grace_period), ${DISCOVERY_SECONDS} s apart, and remove them`;
    case 'remove-new':
      return `remove the new ${service} containers; the old ones keep serving`;
    case 'settle':
      return `$ docker compose ... up --detach --remove-orphans --scale <service>=<count>   (the other services are recreated as usual)`;
  }
}
