import type { ComposeProject } from '../compose/cli.js';
import type { GateResult } from '../health/types.js';
import { ContainersOutcome, startAndWait } from '../release/activate.js';
import { stopContainers } from '../release/commands.js';
import type { ReleaseRecord } from '../release/record.js';
import { Reporter } from '../report.js';
import { RemoteHost } from '../ssh/connection.js';
import { colorProjectName, otherColor, parseColor, readActiveColor, writeActiveColor } from './colors.js';
import { liveProjectName } from './blue-green.js';
import { stopProject } from './stop.js';
import { moveTraffic, publishedAddresses } from './traffic.js';
import { DRAIN_SECONDS } from './types.js';

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
  checkHealth?: (host: RemoteHost, address?: string) => Promise<GateResult>,
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
  await moveTraffic(host, { project: idleProject.name, color: idle, directory: project.directory, command: record.switchCommand ?? '', services }, reporter);
  await host.run(writeActiveColor(root, idle));
  await host.run(['sleep', String(DRAIN_SECONDS)]);
  await host.run(stopProject(liveProjectName(project.name, active), record.keepPreviousRunning ?? false));
  return { ...containers, gate, healthy };
}
