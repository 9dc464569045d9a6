import { createHmac, randomBytes } from 'node:crypto';
import { fingerprint, hostKeyAlgorithms, normalizeFingerprint, parseFingerprintPins, parseKnownHosts, pinnedKeyTypes, verifyHostKey } from '../../src/ssh/known-hosts.js';

const KEY = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ', 'base64');
const OTHER = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIAbcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', 'base64');
const b64 = KEY.toString('base64');

const policy = (text: string, fingerprints: string[] = []) => ({ knownHosts: parseKnownHosts(text), fingerprints, insecureIgnore: false, fingerprintInput: 'host-fingerprint' as const });

describe('known_hosts', () => {
  test('parses ssh-keyscan lines, comments and bracketed ports', () => {
    const entries = parseKnownHosts(`# comment\n[10.0.0.5]:2222 ssh-ed25519 ${b64}\nexample.com,10.0.0.6 ecdsa-sha2-nistp256 AAAA\n`);
    expect(entries).toEqual([
      { patterns: ['[10.0.0.5]:2222'], type: 'ssh-ed25519', key: b64, revoked: false },
      { patterns: ['example.com', '10.0.0.6'], type: 'ecdsa-sha2-nistp256', key: 'AAAA', revoked: false },
    ]);
  });

  test('names the line that is not a known_hosts line', () => {
    expect(() => parseKnownHosts('good.example ssh-ed25519 AAAA\nnonsense')).toThrow(/line 2 is not a known_hosts line/);
  });

  test('accepts the pinned key for the right host and port only', () => {
    const p = policy(`[10.0.0.5]:2222 ssh-ed25519 ${b64}`);
    expect(verifyHostKey(p, '10.0.0.5', 2222, KEY)).toEqual({ ok: true });
    expect(verifyHostKey(p, '10.0.0.5', 22, KEY).ok).toBe(false);
    expect(verifyHostKey(p, '10.0.0.6', 2222, KEY).ok).toBe(false);
    const refused = verifyHostKey(p, '10.0.0.5', 2222, OTHER);
    expect(refused).toEqual({ ok: false, reason: expect.stringContaining(fingerprint(OTHER)) });
  });

  test('port 22 hosts match with or without brackets; hashed names and wildcards work', () => {
    expect(verifyHostKey(policy(`example.com ssh-ed25519 ${b64}`), 'example.com', 22, KEY).ok).toBe(true);
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[db.internal]:2200').digest('base64');
    expect(verifyHostKey(policy(`|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${b64}`), 'db.internal', 2200, KEY).ok).toBe(true);
    expect(verifyHostKey(policy(`*.example.com,!bad.example.com ssh-ed25519 ${b64}`), 'web.example.com', 22, KEY).ok).toBe(true);
    expect(verifyHostKey(policy(`*.example.com,!bad.example.com ssh-ed25519 ${b64}`), 'bad.example.com', 22, KEY).ok).toBe(false);
  });

  test('a revoked key is refused even when also listed', () => {
    const p = policy(`example.com ssh-ed25519 ${b64}\n@revoked * ssh-ed25519 ${b64}`);
    expect(verifyHostKey(p, 'example.com', 22, KEY)).toEqual({ ok: false, reason: expect.stringContaining('@revoked') });
  });

  test('fingerprints pin a host as well, in ssh-keygen format', () => {
    const fp = fingerprint(KEY);
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(normalizeFingerprint(`${fp}=`)).toBe(fp);
    expect(normalizeFingerprint('MD5:aa:bb')).toBeUndefined();
    expect(verifyHostKey(policy('', [fp]), 'any', 22, KEY).ok).toBe(true);
  });

  test('offers the server the key types the user pinned for that host', () => {
    const p = policy(`[h]:2222 ssh-ed25519 ${b64}\n[h]:2222 ecdsa-sha2-nistp256 AAAA\nother ssh-rsa AAAA`);
    expect(pinnedKeyTypes(p, 'h', 2222)).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp256']);
  });

  test('a line without a host pattern is refused: its key would be accepted for every host', () => {
    expect(() => parseKnownHosts(`good.example ssh-ed25519 ${b64}\nssh-ed25519 ${b64}`)).toThrow(/^line 2 names no host; put the host's name first/);
    expect(() => parseKnownHosts(`@revoked ssh-ed25519 ${b64}`)).toThrow(/^line 1 names no host/);
  });

  test("a target never accepts the jump host's own key, whatever pins it", () => {
    const p = policy(`example.com ssh-ed25519 ${b64}`, [fingerprint(KEY)]);
    expect(verifyHostKey(p, 'example.com', 22, KEY, OTHER)).toEqual({ ok: true });
    expect(verifyHostKey(p, 'example.com', 22, KEY, KEY)).toEqual({ ok: false, reason: expect.stringMatching(/^it presented the jump host's own key/) });
  });

  test('a refusal names the input that holds the fingerprints of that host', () => {
    const jump = { ...policy(''), fingerprintInput: 'proxy-jump-fingerprint' as const };
    expect(verifyHostKey(jump, 'bastion', 22, KEY)).toEqual({ ok: false, reason: expect.stringContaining("nor 'proxy-jump-fingerprint'") });
  });

  test('fingerprint pins: bare, or after the host they pin; one entry per line or comma', () => {
    const fp = fingerprint(KEY);
    const other = fingerprint(OTHER);
    expect(parseFingerprintPins(`${fp} ${other}`)).toEqual([{ host: undefined, fingerprint: fp }, { host: undefined, fingerprint: other }]);
    expect(parseFingerprintPins(`web1.example.com ${fp}\n[10.0.0.5]:2222 ${other}, web2 ${fp}=`)).toEqual([
      { host: 'web1.example.com', fingerprint: fp },
      { host: '[10.0.0.5]:2222', fingerprint: other },
      { host: 'web2', fingerprint: fp },
    ]);
    expect(() => parseFingerprintPins('web1 MD5:aa:bb')).toThrow('MD5:aa:bb');
    expect(() => parseFingerprintPins('SHA256:short')).toThrow('SHA256:short');
    expect(() => parseFingerprintPins('web1')).toThrow('web1');
  });

  test('an RSA pin offers rsa-sha2-512 and rsa-sha2-256 before SHA-1 ssh-rsa, which OpenSSH 8.8 and later refuse', () => {
    expect(hostKeyAlgorithms(['ssh-rsa'])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256'])).toEqual(['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ecdsa-sha2-nistp256']);
  });
});
