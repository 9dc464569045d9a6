import { Command } from '../shell/quote.js';

/** A published port of a running container: where a proxy on the host reaches it. */
export interface PublishedAddress {
  readonly service: string;
  /** `host:port`, loopback when the port is published on every interface. */
  readonly address: string;
  readonly containerPort: number;
}

const SEPARATOR = '\t';

/** Running containers of a project with their service and published ports. */
export function listPublished(project: string): Command {
  return [
    'docker', 'ps',
    '--filter', `label=com.docker.compose.project=${project}`,
    '--filter', 'status=running',
    '--format', `{{.Label "com.docker.compose.service"}}${SEPARATOR}{{.Ports}}`,
  ];
}

/**
 * Parses `listPublished` output (`web\t127.0.0.1:49153->8080/tcp, ...`). IPv6 duplicates
 * are left out; `0.0.0.0` becomes `127.0.0.1`. With `services`, only those, in that order.
 */
export function parsePublished(stdout: string, services: readonly string[] = []): PublishedAddress[] {
  const found: PublishedAddress[] = [];
  for (const line of stdout.split('\n')) {
    const [service, ports] = line.split(SEPARATOR);
    if (!service || !ports) continue;
    for (const match of ports.matchAll(/(\d{1,3}(?:\.\d{1,3}){3}):(\d+)->(\d+)\/tcp/g)) {
      const host = match[1] === '0.0.0.0' ? '127.0.0.1' : match[1]!;
      const address = `${host}:${match[2]}`;
      if (!found.some((f) => f.address === address)) found.push({ service, address, containerPort: Number(match[3]) });
    }
  }
  const order = (a: PublishedAddress, b: PublishedAddress) => a.service.localeCompare(b.service) || a.address.localeCompare(b.address);
  if (services.length === 0) return found.sort(order);
  return services.flatMap((s) => found.filter((f) => f.service === s).sort(order));
}
