import { OperationError } from '../errors.js';
import { Reporter } from '../report.js';
import { Command, ShellLine, allOf, constant, quote, userScript } from '../shell/quote.js';
import type { RemoteHost } from '../ssh/connection.js';
import { poll } from '../util/poll.js';
import type { PublishedAddress } from './addresses.js';

/**
 * The built-in blue-green switch, used when `switch-command` is empty: deploy-kit writes the
 * new colour's addresses as `server HOST:PORT;` lines to `<deploy-path>/nginx/<app>.upstream.conf`
 * (which the host's nginx `include`s inside an `upstream` block), reloads nginx with
 * `nginx-reload-command`, and waits until the nginx workers that knew the old addresses have
 * finished their requests and exited: that is the drain.
 */
export interface BuiltinNginx {
  /** `<deploy-path>/nginx/<app>.upstream.conf` */
  readonly file: string;
  /** Run on the host after the file is written; `nginx -s reload` unless the input says otherwise. */
  readonly reload: string;
}

export const DEFAULT_NGINX_RELOAD = 'nginx -s reload';

/** How long the built-in switch waits for nginx to start new workers after the reload. */
export const NGINX_RELOAD_TIMEOUT_MS = 10_000;
/** How long it waits, at most, for the old workers to finish their requests and exit. */
export const NGINX_DRAIN_TIMEOUT_MS = 60_000;

export const upstreamFile = (root: string, app: string): string => `${root}/nginx/${app}.upstream.conf`;

/** The upstream file's text: one `server` line per address. */
export function upstreamServers(addresses: readonly PublishedAddress[]): string {
  return addresses.map((a) => `server ${a.address};\n`).join('');
}

/** Writes the upstream file (a temp file renamed over the old one, so nginx never reads half of it). */
export function writeUpstream(file: string, text: string): ShellLine {
  const dir = file.slice(0, file.lastIndexOf('/'));
  return allOf(['mkdir', '-p', dir], constant(`printf '%s' ${quote(text)} > ${quote(`${file}.next`)}`), ['mv', '-f', `${file}.next`, file]);
}

/** Every process's pid, parent pid and command line. */
export const listProcesses: Command = ['ps', '-eo', 'pid=,ppid=,args='];

export interface NginxWorker {
  readonly pid: number;
  readonly master: number;
  readonly shuttingDown: boolean;
}

/** The nginx workers in `ps -eo pid=,ppid=,args=` output, with the master each belongs to. */
export function parseWorkers(stdout: string): NginxWorker[] {
  const workers: NginxWorker[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+nginx: worker process( is shutting down)?\s*$/.exec(line);
    if (match) workers.push({ pid: Number(match[1]), master: Number(match[2]), shuttingDown: match[3] !== undefined });
  }
  return workers;
}

/**
 * Where a reload stands, from the workers before it and now: `reloading` until some master
 * has a worker it did not have before (nginx starts the new workers first, then tells the old
 * ones to finish), `draining` while an old worker of such a master is alive, then `drained`.
 * Other nginx instances on the host (no new worker) are left out.
 */
export function drainState(before: readonly NginxWorker[], now: readonly NginxWorker[]): { state: 'reloading' | 'draining' | 'drained'; old: number[] } {
  const known = new Set(before.map((w) => w.pid));
  const reloaded = new Set(now.filter((w) => !known.has(w.pid)).map((w) => w.master));
  if (reloaded.size === 0) return { state: 'reloading', old: [] };
  const alive = new Set(now.map((w) => w.pid));
  const old = before.filter((w) => reloaded.has(w.master) && alive.has(w.pid)).map((w) => w.pid);
  return { state: old.length > 0 ? 'draining' : 'drained', old };
}

type Host = Pick<RemoteHost, 'run'>;

/** Writes the upstream file, reloads nginx and waits for the old workers to exit (bounded). */
export async function switchNginx(host: Host, nginx: BuiltinNginx, addresses: readonly PublishedAddress[], directory: string, reporter: Reporter): Promise<void> {
  const before = parseWorkers((await host.run(listProcesses)).stdout);
  await host.run(writeUpstream(nginx.file, upstreamServers(addresses)));
  await host.run(allOf(['cd', directory], userScript(nginx.reload)));
  const started = performance.now();
  let last: ReturnType<typeof drainState> = { state: 'reloading', old: [] };
  const outcome = await poll(
    async () => {
      last = drainState(before, parseWorkers((await host.run(listProcesses)).stdout));
      if (last.state === 'drained') return { done: true, value: last };
      const waited = performance.now() - started;
      if (last.state === 'reloading' && waited > NGINX_RELOAD_TIMEOUT_MS) return { done: true, value: last };
      return { done: false, reason: last.state === 'reloading' ? 'nginx has not started new workers yet' : `old nginx workers ${last.old.join(', ')} still finishing requests` };
    },
    { timeoutMs: NGINX_DRAIN_TIMEOUT_MS, intervalMs: 100 },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (last.state === 'reloading') {
    throw new OperationError(
      `nginx did not start new workers within ${NGINX_RELOAD_TIMEOUT_MS / 1000}s of '${nginx.reload}' (is nginx running, does its configuration test pass with 'nginx -t', and does it include ${nginx.file}?); traffic may still go to the old addresses`,
    );
  }
  reporter.info(
    outcome.done
      ? `nginx reloaded; its old workers finished their requests and exited after ${seconds}s`
      : `nginx reloaded; old workers ${last.old.join(', ')} still run after ${seconds}s (long requests?); going on`,
  );
}
