import type { ComposeProject } from '../compose/cli.js';
import { errorMessage } from '../errors.js';
import type { GateResult, HealthCheck } from '../health/types.js';
import { ContainersOutcome, startAndWait } from '../release/activate.js';
import { stopContainers } from '../release/commands.js';
import type { ReleaseRecord } from '../release/record.js';
import { Reporter } from '../report.js';
import { RemoteHost } from '../ssh/connection.js';
import { colorProjectName, otherColor, parseColor, readActiveColor, writeActiveColor } from './colors.js';
import { liveProjectName } from './blue-green.js';
import { stopProject } from './stop.js';
import { moveTraffic, publishedAddresses } from './traffic.js';
import { DEFAULT_NGINX_RELOAD, upstreamFile } from './nginx.js';
import { RollingRun } from './rolling-run.js';
import { DISCOVERY_SECONDS, DRAIN_SECONDS } from './types.js';

export interface BlueGreenRestore extends ContainersOutcome {
  readonly gate: GateResult | undefined;
  readonly healthy: boolean;
}

/**
 * A blue-green release put back the way it was deployed: started as the idle colour, waited
 * on and gated directly, then traffic moves to it and the colour that had it drains and
 * stops. When it does not come up, it is removed and traffic never moved.
 */
export async function restoreBlueGreen(
  host: RemoteHost,
  root: string,
  record: ReleaseRecord,
  project: ComposeProject,
  timeoutMs: number,
  reporter: Reporter,
  checkHealth?: HealthCheck,
): Promise<BlueGreenRestore> {
  const active = parseColor((await host.run(readActiveColor(root))).stdout);
  const idle = otherColor(active);
  const idleProject = { ...project, name: colorProjectName(project.name, idle) };
  const services = record.services ?? [];
  reporter.info(`starting release ${record.id} (${record.version}) as ${idle}, beside ${active ?? project.name} which keeps serving`);
  const containers = await startAndWait(host, idleProject, timeoutMs, reporter);
  let gate: GateResult | undefined;
  if (containers.ok && checkHealth) gate = await checkHealth(host, (await publishedAddresses(host, idleProject.name, services))[0]!.address);
  const healthy = containers.ok && (gate?.healthy ?? true);
  if (!healthy) {
    reporter.info(`release ${record.id} is not healthy as ${idle}: it is removed, traffic never moved`);
    await host.run(stopContainers(idleProject));
    return { ...containers, gate, healthy, ok: false };
  }
  const command = record.switchCommand ?? '';
  const nginx = command === '' ? { file: upstreamFile(root, project.name), reload: record.nginxReloadCommand ?? DEFAULT_NGINX_RELOAD } : undefined;
  await moveTraffic(host, { project: idleProject.name, color: idle, directory: project.directory, command, services, nginx }, reporter);
  await host.run(writeActiveColor(root, idle));
  if (!nginx) await host.run(['sleep', String(DRAIN_SECONDS)]);
  await host.run(stopProject(liveProjectName(project.name, active), record.keepPreviousRunning ?? false));
  return { ...containers, gate, healthy };
}

/**
 * A rolling release put back the way it was deployed, in reverse: for each service it rolled,
 * its containers start beside the current ones, are waited on (and the first service's gated
 * directly), then the current ones stop and are removed. When they do not come up, they are
 * removed and the current ones never stopped serving.
 */
export async function restoreRolling(
  host: RemoteHost,
  record: ReleaseRecord,
  project: ComposeProject,
  timeoutMs: number,
  reporter: Reporter,
  checkHealth?: HealthCheck,
): Promise<BlueGreenRestore> {
  const run = new RollingRun(host, reporter, `release ${record.id} (${record.version})`, checkHealth);
  const services = record.services ?? [];
  reporter.info(`rolling release ${record.id} (${record.version}) back in, service by service: ${services.join(', ')}`);
  for (const [i, service] of services.entries()) {
    try {
      await run.step('start', service, project, timeoutMs);
      await run.step('wait', service, project, timeoutMs);
      if (i === 0) await run.step('gate', service, project, timeoutMs);
    } catch (error) {
      await run.removeNew(service);
      const reason = errorMessage(error);
      return { ok: false, reason, containers: [], gate: run.gate, healthy: false };
    }
    await host.run(['sleep', String(DISCOVERY_SECONDS)]);
    await run.step('retire', service, project, timeoutMs);
  }
  await run.step('settle', services[0] ?? '', project, timeoutMs);
  return { ok: true, reason: '', containers: [], gate: run.gate, healthy: true };
}
