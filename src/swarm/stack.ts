import { parse, stringify } from 'yaml';
import { ConfigurationError } from '../errors.js';
import { printable } from '../inputs/parse.js';
import { quote } from '../shell/quote.js';

/**
 * What deploy-kit adds to a swarm release's folder, beside the user's compose files, and
 * the pure decisions behind it:
 *
 *   deploy-kit.swarm.yml    update_config defaults per service (a second `-c` file)
 *   deploy-kit.env.sh       0600: `export KEY='value'` lines that `docker stack deploy` is run
 *                           under, because it reads no .env file (values never reach argv)
 */
export const SWARM_FILE = 'deploy-kit.swarm.yml';
export const ENV_SCRIPT = 'deploy-kit.env.sh';

/** File names a swarm release keeps for itself: a user's compose file cannot be called that. */
export const SWARM_RESERVED = [SWARM_FILE, ENV_SCRIPT] as const;

export interface UpdateDefaults {
  /** `start-first`, or `stop-first` where a host-mode published port makes start-first impossible on one node. */
  readonly order?: 'start-first' | 'stop-first';
  readonly failure_action?: 'rollback';
}

interface ServiceDoc {
  readonly deploy?: { readonly update_config?: { readonly order?: unknown; readonly failure_action?: unknown } };
  readonly ports?: readonly unknown[];
}

function servicesOf(content: string): Record<string, ServiceDoc | null> {
  const doc = parse(content) as { services?: Record<string, ServiceDoc | null> } | null;
  const services = doc?.services;
  return services && typeof services === 'object' && !Array.isArray(services) ? services : {};
}

const publishesInHostMode = (ports: readonly unknown[] | undefined): boolean =>
  (ports ?? []).some((port) => typeof port === 'object' && port !== null && (port as { mode?: unknown }).mode === 'host');

/**
 * The update_config keys deploy-kit sets per service, given the user's compose files in
 * order. Only keys no file sets are filled in, so a user's own `update_config` wins:
 *
 * - `failure_action: rollback`: Swarm puts the previous spec back when new tasks fail;
 * - `order: start-first`: new tasks start (and pass their HEALTHCHECK) before old ones stop.
 *   A service that publishes a port in `mode: host` gets `stop-first` instead: on one node
 *   the new task could never bind the port the old one holds, and the update would hang.
 */
export function updateDefaults(files: readonly { readonly content: string }[]): Record<string, UpdateDefaults> {
  const merged = new Map<string, { order?: unknown; failureAction?: unknown; hostPorts: boolean }>();
  for (const file of files) {
    for (const [name, service] of Object.entries(servicesOf(file.content))) {
      const seen = merged.get(name) ?? { hostPorts: false };
      const update = service?.deploy?.update_config;
      merged.set(name, {
        order: update?.order ?? seen.order,
        failureAction: update?.failure_action ?? seen.failureAction,
        hostPorts: seen.hostPorts || publishesInHostMode(service?.ports),
      });
    }
  }
  const defaults: Record<string, UpdateDefaults> = {};
  for (const [name, seen] of merged) {
    defaults[name] = {
      ...(seen.order === undefined ? { order: seen.hostPorts ? 'stop-first' : 'start-first' } : {}),
      ...(seen.failureAction === undefined ? { failure_action: 'rollback' } : {}),
    };
  }
  return defaults;
}

/**
 * The Compose file version given to swarm copies for a Docker CLI before 23.0 (Debian 12's
 * docker.io is 20.10): its `docker stack deploy` reads a file without `version:` as 1.0 and
 * refuses it, and wants the same version in every `-c` file. 3.9 is the newest schema it
 * knows. From 23.0 on the version is optional (docker/cli pull request 3257), so newer CLIs get
 * the user's files as they are.
 */
export const LEGACY_STACK_FILE_VERSION = '3.9';

/** Whether `docker stack deploy` of this CLI version (`20.10.24+dfsg1`, `28.2.2`) needs a `version:` in every file. */
export function stackNeedsFileVersion(cliVersion: string): boolean {
  const major = Number(/^(\d+)\./.exec(cliVersion.trim())?.[1]);
  return Number.isFinite(major) && major < 23;
}

/**
 * The version every file of a swarm release carries: the user's own (first file's), else, for
 * a CLI that needs one, LEGACY_STACK_FILE_VERSION; undefined when none is needed.
 */
export function stackFileVersion(userVersion: string | undefined, cliVersion: string): string | undefined {
  return userVersion ?? (stackNeedsFileVersion(cliVersion) ? LEGACY_STACK_FILE_VERSION : undefined);
}

/** A user's compose file as its swarm copy: `version:` put first where the file has none and one is needed. */
export function withFileVersion(content: string, version: string | undefined): string {
  if (version === undefined) return content;
  const document: unknown = parse(content);
  const has = typeof document === 'object' && document !== null && 'version' in document;
  return has ? content : `# version added by deploy-kit for docker stack deploy before Docker 23\nversion: ${JSON.stringify(version)}\n${content}`;
}

/** The override file: `deploy.update_config` per service; the user's `version:` copied, since stack deploy refuses to merge different ones. */
export function swarmOverride(defaults: Readonly<Record<string, UpdateDefaults>>, composeVersion?: string): string {
  const services = Object.fromEntries(
    Object.entries(defaults)
      .filter(([, update]) => Object.keys(update).length > 0)
      .map(([service, update]) => [service, { deploy: { update_config: update } }]),
  );
  const document = composeVersion ? { version: composeVersion, services } : { services };
  return `# Written by deploy-kit: update_config defaults for docker stack deploy (your own keys win).\n${stringify(document)}`;
}

/**
 * The release's variables as a POSIX shell script of `export NAME='value'` lines, quoted by
 * the one quoting function: sourcing it gives back every value exactly (spaces, quotes, `$`,
 * `#`, backticks, newlines). The .env file cannot serve here: its double-quoted form (`\n`
 * escapes) means something else to sh, and backticks in it would run.
 */
export function formatEnvScript(values: Readonly<Record<string, string>>): string {
  const lines = Object.entries(values).map(([key, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new ConfigurationError(`'${printable(key)}' is not a valid environment variable name.`);
    return `export ${key}=${quote(value)}`;
  });
  return `# Written by deploy-kit: the release's variables for docker stack deploy (mode 0600).\n${lines.join('\n')}\n`;
}

/** A compose file named like one of the files deploy-kit writes into a swarm release would be overwritten: refused before connecting. */
export function checkSwarmFileNames(names: readonly string[]): void {
  const clash = names.find((name) => (SWARM_RESERVED as readonly string[]).includes(name));
  if (clash) throw new ConfigurationError(`Input 'compose-file' names '${clash}', a file deploy-kit writes itself with 'target: swarm'; rename your file.`);
}

/** `shop_web` -> `web` for the stack `shop`. */
export function serviceKey(stack: string, fullName: string): string {
  return fullName.startsWith(`${stack}_`) ? fullName.slice(stack.length + 1) : fullName;
}
