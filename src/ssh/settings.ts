import { isIP } from 'node:net';
import ssh2 from 'ssh2';
import { ConfigurationError } from '../errors.js';
import { InputSource, invalid, parseBoolean, parseDuration, parseInteger, parseList, required } from '../inputs/parse.js';
import { FingerprintPin, HostKeyPolicy, KnownHostKey, parseFingerprintPins, parseKnownHosts } from './known-hosts.js';

/** The SSH inputs every host-facing action shares, parsed and checked before connecting. */
export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
}

/** The jump host of `proxy-jump`, with the keys it may present (`proxy-jump-fingerprint`, or its known_hosts lines). */
export interface JumpHost extends SshTarget {
  readonly hostKeys: HostKeyPolicy;
}

export interface SshSettings extends SshTarget {
  readonly privateKey: string;
  readonly passphrase: string;
  /** The keys this host may present: its known_hosts lines and the `host-fingerprint` pins that apply to it. */
  readonly hostKeys: HostKeyPolicy;
  readonly proxyJump: JumpHost | undefined;
  readonly connectTimeoutMs: number;
}

/** Registers a secret so it never appears in logs. */
export type Masker = (secret: string) => void;

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?$/;
const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

export function parseHost(name: string, raw: string): string {
  const bare = raw.replace(/^\[(.*)\]$/, '$1');
  const ok = isIP(bare) !== 0 ? bare === raw || isIP(bare) === 6 : HOST_NAME.test(raw) && raw.length <= 253;
  if (!ok) throw invalid(name, 'must be a host name or an IP address', raw);
  return bare;
}

export function parseUsername(name: string, raw: string): string {
  if (!USER.test(raw)) throw invalid(name, 'must be a user name (letters, digits, _ . -, starting with a letter or _)', raw);
  return raw;
}

/** `[user@]host[:port]` */
export function parseJumpHost(raw: string, defaults: SshTarget): SshTarget {
  const match = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(raw);
  if (!match) throw invalid('proxy-jump', "must look like '[user@]host[:port]'", raw);
  const [, user, host, port] = match;
  return {
    username: user === undefined ? defaults.username : parseUsername('proxy-jump', user),
    host: parseHost('proxy-jump', host!),
    port: port === undefined ? 22 : parseInteger('proxy-jump', port, { min: 1, max: 65535 }),
  };
}

function checkPrivateKey(key: string, passphrase: string): void {
  const parsed = ssh2.utils.parseKey(key, passphrase === '' ? undefined : passphrase);
  if (parsed instanceof Error) {
    if (/passphrase|decrypt|encrypted/i.test(parsed.message)) {
      throw new ConfigurationError(
        passphrase === ''
          ? "Input 'private-key' is encrypted; give its passphrase in 'passphrase'."
          : "Input 'passphrase' does not decrypt 'private-key'.",
      );
    }
    throw new ConfigurationError("Input 'private-key' must be a private key in OpenSSH or PEM format (the whole file, from -----BEGIN to -----END).");
  }
  const key0 = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key0 || !key0.isPrivateKey()) {
    throw new ConfigurationError("Input 'private-key' holds a public key; give the private key.");
  }
}

/** The host key inputs, parsed: known_hosts lines, and the fingerprints of the targets and of the jump host. */
interface HostKeyInputs {
  readonly knownHosts: readonly KnownHostKey[];
  readonly targetPins: readonly FingerprintPin[];
  readonly jumpPins: readonly FingerprintPin[];
  readonly insecureIgnore: boolean;
}

function readPins(input: InputSource, name: 'host-fingerprint' | 'proxy-jump-fingerprint'): FingerprintPin[] {
  try {
    return parseFingerprintPins(input(name));
  } catch (error) {
    throw invalid(name, "must hold SHA-256 fingerprints like 'SHA256:' followed by 43 base64 characters, each after the host it pins when there are several", (error as Error).message);
  }
}

function readHostKeyInputs(input: InputSource, hasJump: boolean): HostKeyInputs {
  const insecureIgnore = parseBoolean('insecure-ignore-host-key', input('insecure-ignore-host-key'));
  let knownHosts;
  try {
    knownHosts = parseKnownHosts(input('known-hosts'));
  } catch (error) {
    throw new ConfigurationError(`Input 'known-hosts' must hold lines as ssh-keyscan prints them: ${(error as Error).message}.`);
  }
  const targetPins = readPins(input, 'host-fingerprint');
  const jumpPins = readPins(input, 'proxy-jump-fingerprint');
  if (jumpPins.length > 0 && !hasJump) throw new ConfigurationError("Input 'proxy-jump-fingerprint' pins the jump host of 'proxy-jump', which is not set.");
  const shared = targetPins.find((pin) => jumpPins.some((jump) => jump.fingerprint === pin.fingerprint));
  if (shared) {
    throw new ConfigurationError(
      `Input 'host-fingerprint' holds the jump host's fingerprint ${shared.fingerprint} (it is in 'proxy-jump-fingerprint' too): 'host-fingerprint' pins the target host(s) only, so remove it there.`,
    );
  }
  if (!insecureIgnore && knownHosts.length === 0 && targetPins.length === 0) {
    throw new ConfigurationError(
      "Input 'known-hosts' or 'host-fingerprint' is required so the host's identity can be checked. " +
        "Get the line with 'ssh-keyscan -p PORT HOST' (run it from a machine you trust), or set 'insecure-ignore-host-key: true' for a throwaway host.",
    );
  }
  return { knownHosts, targetPins, jumpPins, insecureIgnore };
}

/**
 * Whether a pin's host is `host` on `port`: `name` or `address` (any port), `name:port`, or
 * `[name-or-address]:port` as known_hosts writes it.
 */
function pinNames(pin: FingerprintPin, host: string, port: number): boolean {
  if (pin.host === undefined) return true;
  const [, name, pinPort] = /^\[([^\]]+)\](?::(\d+))?$/.exec(pin.host) ?? /^([^:]+):(\d+)$/.exec(pin.host) ?? [pin.host, pin.host, undefined];
  return name!.toLowerCase() === host.toLowerCase() && (pinPort === undefined || Number(pinPort) === port);
}

/** The policy of one host: the known_hosts lines, and the pins that are its own. */
function policyFor(keys: HostKeyInputs, pins: readonly FingerprintPin[], host: string, port: number, fingerprintInput: HostKeyPolicy['fingerprintInput']): HostKeyPolicy {
  return {
    knownHosts: keys.knownHosts,
    fingerprints: pins.filter((pin) => pinNames(pin, host, port)).map((pin) => pin.fingerprint),
    insecureIgnore: keys.insecureIgnore,
    fingerprintInput,
  };
}

/**
 * Checks that the pins can pin these hosts: with several hosts every pin names its host (a
 * bare one would vouch for all of them). A pin that names another host pins nothing here (a
 * workflow may pass one list to a deploy to several hosts and a backup of one of them); a
 * host that then has neither a pin nor any known_hosts line is refused before connecting.
 */
function checkPins(name: 'host-fingerprint' | 'proxy-jump-fingerprint', keys: HostKeyInputs, pins: readonly FingerprintPin[], hosts: readonly SshTarget[]): void {
  if (hosts.length > 1 && pins.some((pin) => pin.host === undefined)) {
    throw new ConfigurationError(
      `Input '${name}' must name the host of each fingerprint when 'host' lists several hosts, one per line: '${hosts[0]!.host} SHA256:...'. A bare fingerprint would be accepted for every host.`,
    );
  }
  const unpinned = hosts.find((h) => !pins.some((pin) => pinNames(pin, h.host, h.port)));
  if (unpinned && !keys.insecureIgnore && keys.knownHosts.length === 0) {
    const what = name === 'host-fingerprint' ? `the host ${unpinned.host}` : `the jump host ${unpinned.host}`;
    const hint = name === 'host-fingerprint' && pins.length > 0 ? " (a jump host is pinned by 'proxy-jump-fingerprint')" : '';
    throw new ConfigurationError(`Input '${name}' has no fingerprint for ${what}, and 'known-hosts' is empty${hint}: give one, named '${unpinned.host} SHA256:...' when there are several, or its known_hosts line.`);
  }
}

/** One entry of `host`: a name or address, with the port when the entry carries one. */
export interface HostEntry {
  readonly host: string;
  readonly port: number | undefined;
}

/** One host as `host` lists it: `host`, `host:port`, `[v6]` or `[v6]:port` (a bare IPv6 address carries no port). */
export function parseHostEntry(name: string, entry: string): HostEntry {
  const bracketed = /^(\[[^\]]*\])(?::(\d+))?$/.exec(entry);
  const named = /^([^:]+):(\d+)$/.exec(entry);
  const [address, port] = bracketed ? [bracketed[1]!, bracketed[2]] : named ? [named[1]!, named[2]] : [entry, undefined];
  return { host: parseHost(name, address), port: port === undefined ? undefined : parseInteger(name, port, { min: 1, max: 65535 }) };
}

/**
 * `host` as a list: entries separated by commas or newlines, each `host`, `host:port`,
 * `[v6]` or `[v6]:port` (a bare IPv6 address carries no port). Duplicates are refused.
 */
export function parseHostList(raw: string): HostEntry[] {
  const entries = parseList(required('host', raw)).map((entry) => parseHostEntry('host', entry));
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = `${entry.host}:${entry.port ?? ''}`;
    if (seen.has(key)) throw invalid('host', 'must name each host once', entry.host);
    seen.add(key);
  }
  return entries;
}

/** The SSH settings of each host in `entries` (the hosts of `host`), checked before connecting. */
function readSshTargets(input: InputSource, mask: Masker, entries: readonly HostEntry[]): SshSettings[] {
  const privateKey = required('private-key', input('private-key'));
  const passphrase = input('passphrase');
  mask(privateKey);
  if (passphrase !== '') mask(passphrase);
  checkPrivateKey(privateKey, passphrase);
  const username = parseUsername('username', required('username', input('username')));
  const defaultPort = parseInteger('port', input('port'), { min: 1, max: 65535 }, 22);
  const targets = entries.map((entry): SshTarget => ({ host: entry.host, port: entry.port ?? defaultPort, username }));
  const jumpText = input('proxy-jump');
  const keys = readHostKeyInputs(input, jumpText !== '');
  checkPins('host-fingerprint', keys, keys.targetPins, targets);
  const jump = jumpText === '' ? undefined : parseJumpHost(jumpText, targets[0]!);
  if (jump) checkPins('proxy-jump-fingerprint', keys, keys.jumpPins, [jump]);
  const connectTimeoutMs = parseDuration('connect-timeout', input('connect-timeout'), '30s');
  return targets.map((target) => ({
    ...target,
    privateKey,
    passphrase,
    hostKeys: policyFor(keys, keys.targetPins, target.host, target.port, 'host-fingerprint'),
    proxyJump: jump && { ...jump, hostKeys: policyFor(keys, keys.jumpPins, jump.host, jump.port, 'proxy-jump-fingerprint') },
    connectTimeoutMs,
  }));
}

/** Parses the SSH inputs for the one host of `host`. */
export function readSshSettings(input: InputSource, mask: Masker): SshSettings {
  return readSshTargets(input, mask, [{ host: parseHost('host', required('host', input('host'))), port: undefined }])[0]!;
}

/** The SSH settings of every host in `host` (one or several), checked before connecting. */
export function readSshHosts(input: InputSource, mask: Masker): SshSettings[] {
  return readSshTargets(input, mask, parseHostList(input('host')));
}

export const describeTarget = (t: SshTarget): string => `${t.username}@${t.host}${t.port === 22 ? '' : `:${t.port}`}`;
