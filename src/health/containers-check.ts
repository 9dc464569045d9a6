import { ContainerView, inspectContainers, judgeContainers, parseContainers } from '../compose/containers.js';
import { errorMessage } from '../errors.js';
import { formatDuration } from '../inputs/parse.js';
import type { RemoteHost } from '../ssh/connection.js';
import type { GateCheck } from './types.js';

/**
 * The gate's `containers: <app>` check: every container of the compose project running
 * and, where it has a HEALTHCHECK, healthy. Judged by the same rules as a deploy's wait
 * (src/compose/containers.ts), except that the gate's passing rounds in a row stand in for
 * the "running without a restart for a few seconds" rule.
 */
export function judgeProjectContainers(project: string, containers: readonly ContainerView[]): GateCheck {
  const name = `containers of ${project}`;
  if (containers.length === 0) return { name, ok: false, detail: `no containers of compose project ${project} on the host` };
  const verdict = judgeContainers(containers, 0);
  if (verdict.kind !== 'ready') return { name, ok: false, detail: verdict.reason };
  return { name, ok: true, detail: containers.map((c) => `${c.name} ${c.health ?? c.state}`).join(', ') };
}

/** Inspects the project's containers on the host, within `timeoutMs`. Never throws. */
export async function checkProjectContainers(host: Pick<RemoteHost, 'run'>, project: string, timeoutMs: number): Promise<GateCheck> {
  const name = `containers of ${project}`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<GateCheck>((resolve) => {
    timer = setTimeout(() => resolve({ name, ok: false, detail: `docker inspect on the host gave no answer within ${formatDuration(timeoutMs)}` }), timeoutMs);
  });
  const inspect = host
    .run(inspectContainers(project))
    .then((result) => judgeProjectContainers(project, parseContainers(result.stdout)))
    .catch((error: unknown) => ({ name, ok: false, detail: `cannot inspect the containers: ${errorMessage(error)}` }));
  try {
    return await Promise.race([inspect, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
