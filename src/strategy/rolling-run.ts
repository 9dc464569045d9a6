import type { ComposeProject } from '../compose/cli.js';
import { inspectContainers, judgeContainers, parseContainers } from '../compose/containers.js';
import { OperationError } from '../errors.js';
import type { GateResult, HealthCheck } from '../health/types.js';
import { formatDuration } from '../inputs/parse.js';
import { STABLE_SECONDS } from '../release/activate.js';
import { Reporter } from '../report.js';
import type { RemoteHost } from '../ssh/connection.js';
import { poll } from '../util/poll.js';
import { DISCOVERY_SECONDS, RollAction } from './types.js';
import { listServiceContainers, parseServiceContainers, removeContainers, retireContainer, scaleUp, settleProject } from './rolling.js';

type Host = Pick<RemoteHost, 'run'>;

/** Where the health gate reaches one container: a published port, else its address on its network. */
export function containerAddress(inspectJson: string): string | undefined {
  const [entry] = JSON.parse(inspectJson) as {
    NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null>; Networks?: Record<string, { IPAddress?: string }> };
    Config?: { ExposedPorts?: Record<string, unknown> };
  }[];
  for (const bindings of Object.values(entry?.NetworkSettings?.Ports ?? {})) {
    const binding = bindings?.find((b) => /^\d{1,3}(\.\d{1,3}){3}$/.test(b.HostIp));
    if (binding) return `${binding.HostIp === '0.0.0.0' ? '127.0.0.1' : binding.HostIp}:${binding.HostPort}`;
  }
  const ip = Object.values(entry?.NetworkSettings?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  // `8080/tcp`, or `8080` as Compose v2 writes an `expose` entry.
  const port = Object.keys(entry?.Config?.ExposedPorts ?? {}).map((p) => /^(\d+)(\/tcp)?$/.exec(p)?.[1]).find((p) => p !== undefined);
  return ip && port ? `${ip}:${port}` : undefined;
}

/**
 * Runs the steps of a rolling deploy (or of a rolling rollback) on a host, remembering per
 * service which containers were there before (`old`) and which it started (`fresh`).
 */
export class RollingRun {
  private readonly old = new Map<string, string[]>();
  private readonly fresh = new Map<string, string[]>();
  /** Service -> how many containers it runs once rolled. */
  private readonly counts: Record<string, number> = {};
  gate: GateResult | undefined;

  constructor(
    private readonly host: Host,
    private readonly reporter: Reporter,
    /** Names what is rolled out in errors: the version, or `release 6 (v1)`. */
    private readonly what: string,
    private readonly checkHealth?: HealthCheck,
  ) {}

  async step(action: RollAction, service: string, project: ComposeProject, timeoutMs: number, replicas?: number): Promise<void> {
    switch (action) {
      case 'start':
        return this.start(project, service, replicas);
      case 'wait':
        return this.wait(project.name, service, timeoutMs);
      case 'gate':
        return this.runGate(service);
      case 'retire':
        return this.retire(service);
      case 'remove-new':
        return this.removeNew(service);
      case 'settle':
        await this.host.run(settleProject(project, this.counts));
        return;
    }
  }

  /** The containers this run started for `service` (none before its start step, or after they were removed). */
  newContainers(service: string): readonly string[] {
    return this.fresh.get(service) ?? [];
  }

  private async containers(project: string, service: string): Promise<{ running: string[]; stopped: string[] }> {
    return parseServiceContainers((await this.host.run(listServiceContainers(project, service))).stdout);
  }

  private async start(project: ComposeProject, service: string, replicas: number | undefined): Promise<void> {
    const before = await this.containers(project.name, service);
    // Compose would start stopped containers again (with their old configuration) rather than create new ones.
    if (before.stopped.length > 0) await this.host.run(removeContainers(before.stopped));
    const n = replicas ?? Math.max(1, before.running.length);
    this.old.set(service, before.running);
    this.counts[service] = n;
    this.reporter.info(`${service}: ${before.running.length} running (${before.running.join(', ') || 'none'}); starting ${n} new beside them`);
    try {
      await this.host.run(scaleUp(project, service, before.running.length + n));
    } finally {
      const after = await this.containers(project.name, service).catch(() => ({ running: [], stopped: [] }));
      this.fresh.set(service, [...after.running, ...after.stopped].filter((name) => !before.running.includes(name)).sort());
    }
    this.reporter.info(`${service}: new ${this.fresh.get(service)!.join(', ')}`);
  }

  private async wait(project: string, service: string, timeoutMs: number): Promise<void> {
    const names = this.fresh.get(service) ?? [];
    let lastReason = '';
    const outcome = await poll(
      async () => {
        const mine = parseContainers((await this.host.run(inspectContainers(project))).stdout).filter((c) => names.includes(c.name));
        const verdict = judgeContainers(mine, STABLE_SECONDS);
        if (verdict.kind !== 'waiting') return { done: true, value: verdict };
        if (verdict.reason !== lastReason) this.reporter.info(`waiting: ${verdict.reason}`);
        lastReason = verdict.reason;
        return { done: false, reason: verdict.reason };
      },
      { timeoutMs, intervalMs: 250 },
    );
    if (outcome.done && outcome.value.kind === 'ready') {
      this.reporter.info(`new ${service} up: ${outcome.value.containers.map((c) => `${c.name} (${c.health ?? c.state})`).join(', ')}`);
      return;
    }
    const reason = outcome.done && outcome.value.kind === 'failed' ? outcome.value.reason : `containers not healthy after ${formatDuration(timeoutMs)}: ${lastReason}`;
    throw new OperationError(`${this.what}: the new ${service} containers did not come up: ${reason}`);
  }

  private async runGate(service: string): Promise<void> {
    if (!this.checkHealth) return;
    const name = this.fresh.get(service)?.[0];
    const address = name ? containerAddress((await this.host.run(['docker', 'inspect', name])).stdout) : undefined;
    if (!address) throw new OperationError(`${service}: the new container ${name ?? ''} has no published port and no exposed port on a network, so the health gate cannot reach it. Add 'expose: ["PORT"]' to the service.`);
    this.reporter.info(`checking the new ${service} container ${name} directly at ${address}`);
    this.gate = await this.checkHealth(this.host as RemoteHost, address);
    if (!this.gate.healthy) throw new OperationError(`${this.what} failed its health gate on the new ${service} container (${this.gate.successes} passing rounds in ${formatDuration(this.gate.elapsedMs)}, last: ${this.gate.reason})`);
  }

  /**
   * One old container at a time, the next once the proxy has seen the last one go: a proxy
   * retries a failed connection on another replica, and that one is then never also stopping.
   * (Stopped together, two of four replicas of the suite's two-replica change answered a
   * request's every retry, about once in 17 changes: HTTP 503.)
   */
  private async retire(service: string): Promise<void> {
    const old = this.old.get(service) ?? [];
    for (const [i, name] of old.entries()) {
      if (i > 0) await this.host.run(['sleep', String(DISCOVERY_SECONDS)]);
      this.reporter.info(`${service}: stopping the old ${name} (it waits its stop_grace_period), then removing it`);
      await this.host.run(retireContainer(name));
    }
  }

  /** Never throws: the failure that led here is what gets reported. */
  async removeNew(service: string): Promise<void> {
    const fresh = this.fresh.get(service) ?? [];
    if (fresh.length === 0) return;
    await this.host.run(removeContainers(fresh)).then(
      () => this.reporter.info(`${service}: removed the new ${fresh.join(', ')}; the old ${(this.old.get(service) ?? []).join(', ') || 'containers'} never stopped serving`),
      (error: Error) => this.reporter.info(`${service}: removing the new ${fresh.join(', ')} FAILED: ${error.message}`),
    );
    this.fresh.set(service, []);
  }
}
