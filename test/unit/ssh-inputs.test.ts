import ssh2 from 'ssh2';
import { fingerprint } from '../../src/ssh/known-hosts.js';
import { readSshHosts, readSshSettings } from '../../src/ssh/settings.js';

// Issue 17, item 1: a fingerprint pins the host it names, never another one. `host-fingerprint`
// pins the target host(s); `proxy-jump-fingerprint` the jump host.

const KEY = ssh2.utils.generateKeyPairSync('ed25519').private;
const blob = (n: number) => Buffer.from(`host key ${n}`);
const [A, B, J] = [fingerprint(blob(1)), fingerprint(blob(2)), fingerprint(blob(3))];

const inputs = (values: Record<string, string>) => (name: string) => ({ 'private-key': KEY, username: 'deploy', ...values })[name] ?? '';
const none = () => undefined;
const hosts = (values: Record<string, string>) => readSshHosts(inputs(values), none);

describe('host key pins are bound to their hosts', () => {
  test('with one host, bare fingerprints pin that host and not the jump host', () => {
    const [web] = hosts({ host: 'web1.example.com', 'host-fingerprint': `${A} ${B}`, 'proxy-jump': 'bastion.example.com', 'proxy-jump-fingerprint': J });
    expect(web!.hostKeys.fingerprints).toEqual([A, B]);
    expect(web!.proxyJump).toMatchObject({ host: 'bastion.example.com', port: 22, hostKeys: { fingerprints: [J], fingerprintInput: 'proxy-jump-fingerprint' } });
  });

  test('with several hosts, each pin applies to the host it names only', () => {
    const list = hosts({ host: 'web1.example.com, web2.example.com:2222', 'host-fingerprint': `web1.example.com ${A}\nweb2.example.com:2222 ${B}` });
    expect(list.map((h) => [h.host, h.port, h.hostKeys.fingerprints])).toEqual([
      ['web1.example.com', 22, [A]],
      ['web2.example.com', 2222, [B]],
    ]);
    // Without a port, a pin names the host on whatever port it is reached.
    expect(hosts({ host: 'web1, web2:2222', 'host-fingerprint': `web2 ${B}, web1 ${A}` }).map((h) => h.hostKeys.fingerprints)).toEqual([[A], [B]]);
    // As known_hosts writes a host on another port; an IPv6 address.
    expect(hosts({ host: '10.0.0.5:2222, fe80::1', 'host-fingerprint': `[10.0.0.5]:2222 ${A}\nfe80::1 ${B}` }).map((h) => h.hostKeys.fingerprints)).toEqual([[A], [B]]);
    expect(() => hosts({ host: '10.0.0.5:2222, fe80::1', 'host-fingerprint': `[10.0.0.5]:22 ${A}\nfe80::1 ${B}` })).toThrow(/^Input 'host-fingerprint' has no fingerprint for the host 10\.0\.0\.5/);
  });

  test('a bare fingerprint with several hosts is refused: it would be accepted for every one of them', () => {
    expect(() => hosts({ host: 'web1, web2', 'host-fingerprint': `${A} ${B}` })).toThrow(
      /^Input 'host-fingerprint' must name the host of each fingerprint when 'host' lists several hosts, one per line: 'web1 SHA256:\.\.\.'/,
    );
  });

  test('a pin naming another host pins nothing here; a host left without any pin or known_hosts line is refused', () => {
    // One list for a deploy to web1 and web2 and for a backup of web1.
    expect(readSshSettings(inputs({ host: 'web1', 'host-fingerprint': `web1 ${A}\nweb2 ${B}` }), none).hostKeys.fingerprints).toEqual([A]);
    expect(() => hosts({ host: 'web1', 'host-fingerprint': `bastion ${A}` })).toThrow(
      "Input 'host-fingerprint' has no fingerprint for the host web1, and 'known-hosts' is empty (a jump host is pinned by 'proxy-jump-fingerprint'): give one, named 'web1 SHA256:...' when there are several, or its known_hosts line.",
    );
    expect(() => hosts({ host: 'web1, web2', 'host-fingerprint': `web1 ${A}` })).toThrow(/^Input 'host-fingerprint' has no fingerprint for the host web2/);
    expect(() => hosts({ host: 'web1', 'host-fingerprint': A, 'proxy-jump': 'bastion' })).toThrow(/^Input 'proxy-jump-fingerprint' has no fingerprint for the jump host bastion, and 'known-hosts' is empty: /);
    // With known_hosts lines, a host without a pin is checked against them when connecting.
    expect(hosts({ host: 'web1, web2', 'host-fingerprint': `web1 ${A}`, 'known-hosts': `web2 ssh-ed25519 ${blob(2).toString('base64')}` }).map((h) => h.hostKeys.fingerprints)).toEqual([[A], []]);
  });

  test("the jump host's fingerprint in 'host-fingerprint' too is refused", () => {
    expect(() => hosts({ host: 'web1', 'host-fingerprint': `${A} ${J}`, 'proxy-jump': 'bastion', 'proxy-jump-fingerprint': J })).toThrow(
      /^Input 'host-fingerprint' holds the jump host's fingerprint SHA256:\S+ \(it is in 'proxy-jump-fingerprint' too\)/,
    );
  });

  test('proxy-jump-fingerprint without proxy-jump is refused', () => {
    expect(() => hosts({ host: 'web1', 'host-fingerprint': A, 'proxy-jump-fingerprint': J })).toThrow("Input 'proxy-jump-fingerprint' pins the jump host of 'proxy-jump', which is not set.");
  });

  test('known_hosts lines keep pinning the jump host under its own name', () => {
    const line = `bastion ssh-ed25519 ${blob(3).toString('base64')}`;
    const [web] = hosts({ host: 'web1', 'known-hosts': line, 'proxy-jump': 'ops@bastion:2200' });
    expect(web!.proxyJump).toMatchObject({ username: 'ops', host: 'bastion', port: 2200, hostKeys: { fingerprints: [], knownHosts: [{ patterns: ['bastion'] }] } });
  });

  test('action-backup reads its one host the same way', () => {
    expect(readSshSettings(inputs({ host: 'db1', 'host-fingerprint': `db1 ${A}` }), none).hostKeys.fingerprints).toEqual([A]);
    expect(() => readSshSettings(inputs({ host: 'db1', 'host-fingerprint': 'SHA256:nope' }), none)).toThrow(/^Input 'host-fingerprint' must hold SHA-256 fingerprints .*; got 'SHA256:nope'\.$/);
  });
});
