import { createHash, createHmac } from 'node:crypto';

/**
 * known_hosts lines (as `ssh-keyscan` prints them) and SHA-256 fingerprints, and the
 * decision whether a key a host presents is one the user pinned. Pure: no I/O.
 */
export interface KnownHostKey {
  /** Host patterns of the line; empty when the line names no host (a bare key). */
  readonly patterns: readonly string[];
  readonly type: string;
  /** The key blob, base64 as in the file. */
  readonly key: string;
  readonly revoked: boolean;
}

export interface HostKeyPolicy {
  readonly knownHosts: readonly KnownHostKey[];
  readonly fingerprints: readonly string[];
  readonly insecureIgnore: boolean;
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
      entries.push({ patterns: [], type: first, key: second, revoked });
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
  if (entry.patterns.length === 0) return true;
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

export type HostKeyVerdict = { ok: true } | { ok: false; reason: string };

export function verifyHostKey(policy: HostKeyPolicy, host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  if (policy.insecureIgnore) return { ok: true };
  const names = hostNames(host, port);
  const presented = keyBlob.toString('base64');
  const matching = policy.knownHosts.filter((e) => e.key === presented && entryMatchesHost(e, names));
  if (matching.some((e) => e.revoked)) return { ok: false, reason: 'its key is marked @revoked in known-hosts' };
  if (matching.length > 0 || policy.fingerprints.includes(fingerprint(keyBlob))) return { ok: true };
  return { ok: false, reason: `it presented a key with fingerprint ${fingerprint(keyBlob)}, which matches neither 'known-hosts' nor 'host-fingerprint'` };
}
