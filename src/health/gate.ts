import { ConfigurationError } from '../errors.js';
import { formatDuration } from '../inputs/parse.js';
import type { Reporter } from '../report.js';
import type { RemoteHost } from '../ssh/connection.js';
import { describeTarget } from '../ssh/settings.js';
import type { Clock } from '../util/poll.js';
import { checkProjectContainers } from './containers-check.js';
import { OpenStream, probeUrl } from './probe.js';
import { RoundCheck, runRounds } from './rounds.js';
import { parseStatusSpec } from './status.js';
import type { GateResult, GateSettings } from './types.js';
import { displayUrl } from './words.js';

/** What the gate uses of the SSH host: port forwards for the tunnel, commands for containers. */
export type GateHost = Pick<RemoteHost, 'forward' | 'run' | 'target'>;

/**
 * The health gate shared by action-healthgate, action-deploy and action-rollback.
 * Requests go through an SSH tunnel to `host` (each one a fresh channel over the one SSH
 * connection, so `http://127.0.0.1:8080/` is the host's loopback) when `settings.viaHost`
 * is true and a host is given; otherwise directly from the runner. `settings.containers`
 * needs the host. Header values are sent, never logged.
 */
export async function runGate(settings: GateSettings, host: GateHost | undefined, reporter: Reporter, clock?: Clock): Promise<GateResult> {
  if (settings.containers && !host) {
    throw new ConfigurationError(`Checking the containers of '${settings.containers}' needs the SSH inputs ('host', 'username', 'private-key', 'known-hosts').`);
  }
  const tunnel = settings.viaHost && host !== undefined;
  const open: OpenStream | undefined = tunnel ? (hostname, port) => host.forward(port, hostname) : undefined;
  const passes = parseStatusSpec('expect-status', settings.expectStatus);
  const project = settings.containers;
  const checks: RoundCheck[] = project && host ? [() => checkProjectContainers(host, project, settings.requestTimeoutMs)] : [];

  const how = [
    `${settings.successes} passing round${settings.successes === 1 ? '' : 's'} in a row`,
    `every ${formatDuration(settings.intervalMs)}`,
    `within ${formatDuration(settings.timeoutMs)}`,
    `status ${settings.expectStatus}`,
    ...(settings.expectBody ? [`body matching ${String(settings.expectBody)}`] : []),
    ...(settings.maxLatencyMs === undefined ? [] : [`p95 at most ${settings.maxLatencyMs}ms`]),
  ].join(', ');
  const where = tunnel ? ` through an SSH tunnel to ${describeTarget(host.target)}` : '';
  reporter.info(`checking ${settings.urls.map(displayUrl).join(', ')}${where}${settings.containers ? ` and the containers of ${settings.containers}` : ''}: ${how}`);

  return runRounds(settings, {
    probe: (url) =>
      probeUrl(url, {
        passes,
        expectBody: settings.expectBody,
        headers: settings.headers,
        timeoutMs: settings.requestTimeoutMs,
        insecureTls: settings.insecureTls,
        shownUrl: displayUrl(url),
        ...(open ? { open } : {}),
      }),
    checks,
    reporter,
    ...(clock ? { clock } : {}),
  });
}
