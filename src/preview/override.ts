import { stringify } from 'yaml';

/** The compose file deploy-kit adds after the user's for a preview: its way in and its limits. */
export interface PreviewOverride {
  /** Every service of the preview: each gets the limits and the preview label. */
  readonly services: readonly string[];
  /** The service the proxy sends requests to, and the port it listens on in its container. */
  readonly webService: string;
  readonly webPort: number;
  /** The loopback port on the host the proxy reaches the web service at. */
  readonly hostPort: number;
  readonly cpus: string;
  readonly memory: string;
  /** The preview's name, as the value of the `dev.deploy-kit.preview` label. */
  readonly name: string;
}

export const OVERRIDE_FILE = 'deploy-kit.preview.yml';
export const PREVIEW_LABEL = 'dev.deploy-kit.preview';

/**
 * Service-level `cpus` and `mem_limit` (the Compose specification's, honoured by Compose v2
 * and v1.27+) cap every service; the web service is published on the host's loopback only, so
 * nothing but the proxy on the host reaches it.
 */
export function previewOverride(o: PreviewOverride): string {
  const services: Record<string, Record<string, unknown>> = {};
  for (const service of o.services) {
    services[service] = { cpus: o.cpus, mem_limit: o.memory, labels: { [PREVIEW_LABEL]: o.name } };
  }
  services[o.webService] = { ...services[o.webService], ports: [`127.0.0.1:${o.hostPort}:${o.webPort}`] };
  return `# Written by deploy-kit for the preview ${o.name}: its loopback port for the proxy, and its limits.\n${stringify({ services })}`;
}
