import { createHash, createHmac } from 'node:crypto';

/**
 * known_hosts lines (as `ssh-keyscan` prints them) and SHA-256 fingerprints, and the
 * decision whether a key a host presents is one the user pinned. Pure: no I/O.
 */
export interface KnownHostKey {
  /** Host patterns of the line (never empty: a line that names no host is refused). */
  readonly patterns: readonly string[];
  readonly type: string;
  /** The key blob, base64 as in the file. */
  readonly key: string;
  readonly revoked: boolean;
}

/**
 * What one connection accepts: the known_hosts lines (each names its hosts) and the
 * fingerprints pinned for this very host (the target's from `host-fingerprint`, the jump
 * host's from `proxy-jump-fingerprint`), so a pin never vouches for another host.
 */
export interface HostKeyPolicy {
  readonly knownHosts: readonly KnownHostKey[];
  readonly fingerprints: readonly string[];
  readonly insecureIgnore: boolean;
  /** The input the fingerprints came from, for errors. */
  readonly fingerprintInput: 'host-fingerprint' | 'proxy-jump-fingerprint';
}

const KEY_TYPE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;

/** Parses known_hosts text. Throws with the line number when a line is not a host key. */
export function parseKnownHosts(text: string): KnownHostKey[] {
  const entries: KnownHostKey[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    let fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0] === '@revoked') {
      revoked = true;
      fields = fields.slice(1);
    } else if (fields[0]?.startsWith('@')) {
      throw new Error(`line ${index + 1}: the marker ${fields[0]} is not supported; list the host's own key`);
    }
    const [first, second, third] = fields;
    if (first !== undefined && KEY_TYPE.test(first) && second !== undefined) {
      // A key without a host would vouch for every host: a key of one machine accepted for all.
      throw new Error(`line ${index + 1} names no host; put the host's name first ('host key-type base64-key', as ssh-keyscan prints it)`);
    } else if (first !== undefined && second !== undefined && KEY_TYPE.test(second) && third !== undefined) {
      entries.push({ patterns: first.split(','), type: second, key: third, revoked });
    } else {
      throw new Error(`line ${index + 1} is not a known_hosts line ('host key-type base64-key')`);
    }
  });
  return entries;
}

/** `SHA256:...` as `ssh-keygen -lf` prints it. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

export function normalizeFingerprint(text: string): string | undefined {
  const match = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(text.trim());
  return match ? `SHA256:${match[1]}` : undefined;
}

/** The names a host goes by in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function hostNames(host: string, port: number): string[] {
  return port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`];
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return globToRegExp(pattern).test(name);
}

function entryMatchesHost(entry: KnownHostKey, names: readonly string[]): boolean {
  const negated = entry.patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  if (names.some((name) => negated.some((p) => patternMatches(p, name)))) return false;
  return names.some((name) => entry.patterns.some((p) => !p.startsWith('!') && patternMatches(p, name)));
}

/** Key types the user pinned for this host, to offer the server in that order. */
export function pinnedKeyTypes(policy: HostKeyPolicy, host: string, port: number): string[] {
  const names = hostNames(host, port);
  const types = policy.knownHosts.filter((e) => !e.revoked && entryMatchesHost(e, names)).map((e) => e.type);
  return [...new Set(types)];
}

/**
 * The host key algorithms to offer for pinned key types. An RSA key signs with SHA-512 or
 * SHA-256 (RFC 8332) on any current server; OpenSSH 8.8 and later refuse `ssh-rsa`'s SHA-1
 * signatures, which stay last only for servers older than OpenSSH 7.2.
 */
export function hostKeyAlgorithms(keyTypes: readonly string[]): string[] {
  return [...new Set(keyTypes.flatMap((type) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type])))];
}

export type HostKeyVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Whether `keyBlob` is a key the user pinned for `host`:`port`. `refused` is a key that
 * must never be accepted here: the jump host's own key, when this is the target behind it
 * (a jump host answering for the target itself).
 */
export function verifyHostKey(policy: HostKeyPolicy, host: string, port: number, keyBlob: Buffer, refused?: Buffer): HostKeyVerdict {
  if (policy.insecureIgnore) return { ok: true };
  if (refused && refused.equals(keyBlob)) {
    return { ok: false, reason: `it presented the jump host's own key (${fingerprint(keyBlob)}): the jump host answered for the target` };
  }
  const names = hostNames(host, port);
  const presented = keyBlob.toString('base64');
  const matching = policy.knownHosts.filter((e) => e.key === presented && entryMatchesHost(e, names));
  if (matching.some((e) => e.revoked)) return { ok: false, reason: 'its key is marked @revoked in known-hosts' };
  if (matching.length > 0 || policy.fingerprints.includes(fingerprint(keyBlob))) return { ok: true };
  return { ok: false, reason: `it presented a key with fingerprint ${fingerprint(keyBlob)}, which matches neither 'known-hosts' nor '${policy.fingerprintInput}'` };
}

/** One entry of `host-fingerprint` or `proxy-jump-fingerprint`: a fingerprint, and the host it names (undefined: bare). */
export interface FingerprintPin {
  readonly host: string | undefined;
  readonly fingerprint: string;
}

/** A word that is meant as a fingerprint (`SHA256:...`, `MD5:...`), well-formed or not; anything else before one names a host. */
const FINGERPRINT_LIKE = /^(sha|md)\d*:/i;

/**
 * Fingerprint pins: entries separated by newlines or commas, each `[HOST] SHA256:...`
 * (several fingerprints after one host name are several pins for it). Throws an error whose
 * message is the word that is not a SHA-256 fingerprint where one belongs.
 */
export function parseFingerprintPins(text: string): FingerprintPin[] {
  const pins: FingerprintPin[] = [];
  for (const entry of text.split(/[\n,]/)) {
    const words = entry.trim().split(/\s+/).filter((w) => w !== '');
    const host = words.length > 1 && !FINGERPRINT_LIKE.test(words[0]!) ? words[0] : undefined;
    for (const word of host === undefined ? words : words.slice(1)) {
      const fp = normalizeFingerprint(word);
      if (fp === undefined) throw new Error(word);
      pins.push({ host, fingerprint: fp });
    }
  }
  return pins;
}
