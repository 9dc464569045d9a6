import { isIP } from 'node:net';
import ssh2 from 'ssh2';
import { ConfigurationError } from '../errors.js';
import { InputSource, invalid, parseBoolean, parseDuration, parseInteger, parseList, required } from '../inputs/parse.js';
import { HostKeyPolicy, normalizeFingerprint, parseKnownHosts } from './known-hosts.js';

/** The SSH inputs every host-facing action shares, parsed and checked before connecting. */
export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
}

export interface SshSettings extends SshTarget {
  readonly privateKey: string;
  readonly passphrase: string;
  readonly hostKeys: HostKeyPolicy;
  readonly proxyJump: SshTarget | undefined;
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

function readHostKeyPolicy(input: InputSource): HostKeyPolicy {
  const insecureIgnore = parseBoolean('insecure-ignore-host-key', input('insecure-ignore-host-key'));
  let knownHosts;
  try {
    knownHosts = parseKnownHosts(input('known-hosts'));
  } catch (error) {
    throw new ConfigurationError(`Input 'known-hosts' must hold lines as ssh-keyscan prints them: ${(error as Error).message}.`);
  }
  const fingerprints = input('host-fingerprint')
    .split(/[\s,]+/)
    .filter((f) => f !== '')
    .map((f) => normalizeFingerprint(f) ?? (() => { throw invalid('host-fingerprint', "must be a SHA-256 fingerprint like 'SHA256:' followed by 43 base64 characters", f); })());
  if (!insecureIgnore && knownHosts.length === 0 && fingerprints.length === 0) {
    throw new ConfigurationError(
      "Input 'known-hosts' or 'host-fingerprint' is required so the host's identity can be checked. " +
        "Get the line with 'ssh-keyscan -p PORT HOST' (run it from a machine you trust), or set 'insecure-ignore-host-key: true' for a throwaway host.",
    );
  }
  return { knownHosts, fingerprints, insecureIgnore };
}

/** One entry of `host`: a name or address, with the port when the entry carries one. */
export interface HostEntry {
  readonly host: string;
  readonly port: number | undefined;
}

/**
 * `host` as a list: entries separated by commas or newlines, each `host`, `host:port`,
 * `[v6]` or `[v6]:port` (a bare IPv6 address carries no port). Duplicates are refused.
 */
export function parseHostList(raw: string): HostEntry[] {
  const entries = parseList(required('host', raw)).map((entry): HostEntry => {
    const bracketed = /^(\[[^\]]*\])(?::(\d+))?$/.exec(entry);
    const named = /^([^:]+):(\d+)$/.exec(entry);
    const [address, port] = bracketed ? [bracketed[1]!, bracketed[2]] : named ? [named[1]!, named[2]] : [entry, undefined];
    return { host: parseHost('host', address), port: port === undefined ? undefined : parseInteger('host', port, { min: 1, max: 65535 }) };
  });
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = `${entry.host}:${entry.port ?? ''}`;
    if (seen.has(key)) throw invalid('host', 'must name each host once', entry.host);
    seen.add(key);
  }
  return entries;
}

/** Parses the SSH inputs for one host: the `host` input's, or `entry` (one host of a list). */
export function readSshSettings(input: InputSource, mask: Masker, entry?: HostEntry): SshSettings {
  const privateKey = required('private-key', input('private-key'));
  const passphrase = input('passphrase');
  mask(privateKey);
  if (passphrase !== '') mask(passphrase);
  checkPrivateKey(privateKey, passphrase);
  const host = entry?.host ?? parseHost('host', required('host', input('host')));
  const username = parseUsername('username', required('username', input('username')));
  const port = entry?.port ?? parseInteger('port', input('port'), { min: 1, max: 65535 }, 22);
  const jump = input('proxy-jump');
  return {
    host,
    port,
    username,
    privateKey,
    passphrase,
    hostKeys: readHostKeyPolicy(input),
    proxyJump: jump === '' ? undefined : parseJumpHost(jump, { host, port, username }),
    connectTimeoutMs: parseDuration('connect-timeout', input('connect-timeout'), '30s'),
  };
}

/** The SSH settings of every host in `host` (one or several), checked before connecting. */
export function readSshHosts(input: InputSource, mask: Masker): SshSettings[] {
  const masked = new Set<string>();
  const maskOnce: Masker = (secret) => {
    if (!masked.has(secret)) mask(secret);
    masked.add(secret);
  };
  return parseHostList(input('host')).map((entry) => readSshSettings(input, maskOnce, entry));
}

export const describeTarget = (t: SshTarget): string => `${t.username}@${t.host}${t.port === 22 ? '' : `:${t.port}`}`;
