import ssh2 from 'ssh2';
import { readHealthgateInputs } from '../../action-healthgate/src/inputs.js';

const key = ssh2.utils.generateKeyPairSync('ed25519');
const sshInputs = { host: '203.0.113.7', username: 'deploy', 'private-key': key.private, 'known-hosts': `203.0.113.7 ${key.public}` };

function read(inputs: Record<string, string>) {
  const masked: string[] = [];
  const settings = readHealthgateInputs((name) => inputs[name] ?? '', (secret) => masked.push(secret));
  return { ...settings, masked };
}

describe('action-healthgate inputs', () => {
  test('defaults: direct requests, fail the step when unhealthy', () => {
    const { gate, hosts, fail } = read({ url: 'http://127.0.0.1:8080/health' });
    expect(hosts).toEqual([]);
    expect(fail).toBe(true);
    expect(gate).toEqual({
      urls: ['http://127.0.0.1:8080/health'],
      expectStatus: '200-399',
      expectBody: undefined,
      headers: {},
      successes: 3,
      intervalMs: 2000,
      timeoutMs: 60_000,
      requestTimeoutMs: 5000,
      maxLatencyMs: undefined,
      insecureTls: false,
      viaHost: false,
    });
  });

  test('every health input, header values masked', () => {
    const { gate, fail, masked } = read({
      url: 'https://a.example.com/health\nhttps://b.example.com/ready',
      'expect-status': '2xx,301',
      'expect-body': '"status":\\s*"ok"',
      headers: 'Authorization: Bearer s3cr3t-token\nX-Probe: gate',
      successes: '5',
      interval: '500ms',
      timeout: '2m',
      'request-timeout': '3s',
      'max-latency': '250',
      'insecure-tls': 'true',
      fail: 'false',
    });
    expect(gate).toMatchObject({
      urls: ['https://a.example.com/health', 'https://b.example.com/ready'],
      expectStatus: '2xx,301',
      headers: { Authorization: 'Bearer s3cr3t-token', 'X-Probe': 'gate' },
      successes: 5,
      intervalMs: 500,
      timeoutMs: 120_000,
      requestTimeoutMs: 3000,
      maxLatencyMs: 250,
      insecureTls: true,
    });
    expect(gate.expectBody?.test('{"status": "ok"}')).toBe(true);
    expect(fail).toBe(false);
    expect(masked).toEqual(expect.arrayContaining(['Bearer s3cr3t-token', 'gate']));
  });

  test('with the SSH inputs, requests go through the tunnel and containers can be checked', () => {
    const { gate, hosts, masked } = read({ url: 'http://127.0.0.1:8080/health', containers: 'shop', ...sshInputs });
    expect(hosts).toEqual([expect.objectContaining({ host: '203.0.113.7', port: 22, username: 'deploy' })]);
    expect(gate).toMatchObject({ viaHost: true, containers: 'shop' });
    expect(masked).toContain(key.private);
  });

  test('mistakes are named with what was expected', () => {
    expect(() => read({})).toThrow("Input 'url' is required: the URL(s) to check, one per line.");
    expect(() => read({ url: 'ftp://x/' })).toThrow("Input 'url' must hold http:// or https:// URLs; got 'ftp://x/'.");
    expect(() => read({ url: 'http://x/', 'expect-status': 'ok' })).toThrow(/Input 'expect-status' must be statuses like '200-399'/);
    expect(() => read({ url: 'http://x/', 'expect-body': '(' })).toThrow(/Input 'expect-body' must be a regular expression/);
    expect(() => read({ url: 'http://x/', headers: 'no colon here' })).toThrow(/Input 'headers' must hold 'Name: value' lines/);
    expect(() => read({ url: 'http://x/', fail: 'sometimes' })).toThrow("Input 'fail' must be true or false; got 'sometimes'.");
    expect(() => read({ url: 'http://x/', containers: 'shop' })).toThrow(/Input 'containers' needs the SSH inputs/);
    expect(() => read({ url: 'http://x/', containers: 'Shop; rm -rf /', ...sshInputs })).toThrow(/Input 'containers' must be a compose project/);
    expect(() => read({ url: 'http://x/', host: '203.0.113.7' })).toThrow("Input 'private-key' is required.");
  });
});
