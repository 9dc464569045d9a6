import { OperationError } from '../errors.js';
import { Reporter } from '../report.js';
import { RemoteHost } from '../ssh/connection.js';
import { PublishedAddress, listPublished, parsePublished } from './addresses.js';
import { BuiltinNginx, switchNginx } from './nginx.js';
import { switchEnvironment, switchTraffic } from './switch.js';
import { Color } from './types.js';

type Host = Pick<RemoteHost, 'run'>;

/** Where a proxy on the host reaches a project's traffic services; an error when nowhere. */
export async function publishedAddresses(host: Host, project: string, services: readonly string[]): Promise<PublishedAddress[]> {
  const addresses = parsePublished((await host.run(listPublished(project))).stdout, services);
  if (addresses.length === 0) {
    const which = services.length > 0 ? `services ${services.join(', ')}` : 'any service';
    throw new OperationError(
      `${project}: no running container of ${which} publishes a port, so a proxy cannot reach it. For blue-green, publish the port without a fixed host port (ports: ["127.0.0.1::8080"]) so both colours can run at once.`,
    );
  }
  return addresses;
}

/**
 * Runs switch-command with `project`'s addresses: traffic moves to `color`. Without a command,
 * the built-in nginx switch writes the first traffic service's addresses (every container, its
 * first published port) to the upstream file, reloads nginx and waits for its old workers.
 */
export async function moveTraffic(
  host: Host,
  move: { project: string; color: Color; directory: string; command: string; services: readonly string[]; nginx?: BuiltinNginx | undefined },
  reporter: Reporter,
): Promise<void> {
  const addresses = await publishedAddresses(host, move.project, move.services);
  reporter.info(`moving traffic to ${move.color} (${move.project}: ${addresses.map((a) => `${a.service} ${a.address}`).join(', ')})`);
  if (move.command === '' && move.nginx) {
    const first = addresses[0]!;
    const upstream = addresses.filter((a) => a.service === first.service && a.containerPort === first.containerPort);
    reporter.info(`built-in nginx switch: ${move.nginx.file} gets ${upstream.map((a) => `server ${a.address};`).join(' ')}`);
    return switchNginx(host, move.nginx, upstream, move.directory, reporter);
  }
  await host.run(switchTraffic(move.directory, move.command, switchEnvironment(move.color, move.project, addresses)));
}
