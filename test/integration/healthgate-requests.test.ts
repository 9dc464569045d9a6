import { execFileSync } from 'node:child_process';
import dns from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { GateHost, runGate } from '../../src/health/gate.js';
import { MAX_BODY_BYTES } from '../../src/health/probe.js';
import type { GateSettings } from '../../src/health/types.js';
import type { Reporter } from '../../src/report.js';

// The gate's requests, in process, against real HTTP and HTTPS servers on 127.0.0.1: TLS,
// large bodies, what is sent, and the tunnel path (http.request over a stream the host opens).
// Here the "host" opens plain TCP streams wrapped as a generic Duplex, as an SSH channel is;
// healthgate-ssh.test.ts does the same through a real sshd.

const log: string[] = [];
const reporter: Reporter = {
  info: (m) => void log.push(m),
  warning: (m) => void log.push(`warning: ${m}`),
  debug: () => undefined,
  group: (_t, fn) => fn(),
};

const settings = (over: Partial<GateSettings>): GateSettings => ({
  urls: [],
  expectStatus: '200-399',
  expectBody: undefined,
  headers: {},
  successes: 1,
  intervalMs: 50,
  timeoutMs: 300,
  requestTimeoutMs: 2000,
  maxLatencyMs: undefined,
  insecureTls: false,
  viaHost: false,
  ...over,
});

/** A TCP connection as a plain Duplex (not a net.Socket), like an ssh2 channel. */
function channelTo(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('connect', () => {
      const channel = new Duplex({
        read: () => socket.resume(),
        write: (chunk, _enc, done) => socket.write(chunk, done),
        final: (done) => socket.end(done),
        destroy: (error, done) => {
          socket.destroy();
          done(error);
        },
      });
      socket.on('data', (data) => {
        if (!channel.push(data)) socket.pause();
      });
      socket.on('end', () => channel.push(null));
      socket.on('error', (error) => channel.destroy(error));
      resolve(channel);
    });
  });
}

/** A host that can reach `app.internal` (which the runner cannot resolve) and records its forwards. */
function fakeHost(): GateHost & { forwards: string[] } {
  const forwards: string[] = [];
  return {
    forwards,
    target: { host: '203.0.113.7', port: 22, username: 'deploy' },
    forward: async (port: number, host = '127.0.0.1') => {
      forwards.push(`${host}:${port}`);
      if (host !== '127.0.0.1' && host !== 'app.internal') throw Object.assign(new Error('(SSH) Channel open failure: getaddrinfo failed'), { reason: 2 });
      try {
        return await channelTo(port);
      } catch {
        // What ssh2 reports when the host's connect is refused.
        throw Object.assign(new Error('(SSH) Channel open failure: Connection refused'), { reason: 2 });
      }
    },
    run: async () => {
      throw new Error('no commands here');
    },
  };
}

describe('health gate requests', () => {
  let dir: string;
  let plain: http.Server;
  let secure: https.Server;
  let plainPort: number;
  let securePort: number;
  const seen: http.IncomingHttpHeaders[] = [];
  /** The name each HTTPS request's client sent in its TLS hello (SNI). */
  const serverNames: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'healthgate-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'pipe' });
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      seen.push(req.headers);
      if (req.socket instanceof TLSSocket) serverNames.push(String(req.socket.servername));
      if (req.url === '/endless') {
        // Streams a body that never ends: "ok" first, then filler.
        res.writeHead(200);
        res.write('ok\n');
        const filler = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (!res.destroyed && res.write(filler));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      if (req.url === '/big') {
        // 2 MiB of filler, the marker only at the very end.
        res.writeHead(200).end(Buffer.concat([Buffer.alloc(2 * 1024 * 1024, 'x'), Buffer.from('MARKER')]));
        return;
      }
      if (req.url === '/hang-up') {
        req.socket.destroy();
        return;
      }
      res.writeHead(200).end(`hello from ${req.headers.host}`);
    };
    plain = http.createServer(handler);
    secure = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, handler);
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    plainPort = (plain.address() as AddressInfo).port;
    securePort = (secure.address() as AddressInfo).port;
  });

  afterAll(async () => {
    plain.closeAllConnections();
    secure.closeAllConnections();
    await new Promise((resolve) => plain.close(resolve));
    await new Promise((resolve) => secure.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    log.length = 0;
    seen.length = 0;
    serverNames.length = 0;
  });

  test('sends Host, a user agent, basic auth from the URL and the given headers', async () => {
    const result = await runGate(settings({ urls: [`http://probe:pa%24%24@127.0.0.1:${plainPort}/health?deep=1`], headers: { 'X-Token': 'abc123' } }), undefined, reporter);
    expect(result.healthy).toBe(true);
    expect(seen[0]).toMatchObject({
      host: `127.0.0.1:${plainPort}`,
      'user-agent': 'deploy-kit-healthgate',
      authorization: `Basic ${Buffer.from('probe:pa$$').toString('base64')}`,
      'x-token': 'abc123',
    });
    expect(log.join('\n')).not.toMatch(/pa%24%24|pa\$\$|abc123/);
    // Query values may be tokens: shown hidden, like the password.
    expect(log[0]).toContain(`http://probe:***@127.0.0.1:${plainPort}/health?deep=***`);
  });

  test('HTTPS: a self-signed certificate is refused in words, accepted with insecure-tls', async () => {
    const url = `https://127.0.0.1:${securePort}/health`;
    const refused = await runGate(settings({ urls: [url] }), undefined, reporter);
    expect(refused.healthy).toBe(false);
    expect(refused.reason).toBe("TLS certificate not accepted: self-signed certificate (set 'insecure-tls: true' to accept it)");
    const accepted = await runGate(settings({ urls: [url], insecureTls: true }), undefined, reporter);
    expect(accepted).toMatchObject({ healthy: true, reason: '' });
  });

  test('HTTPS to a plain HTTP port fails the handshake in words', async () => {
    const result = await runGate(settings({ urls: [`https://127.0.0.1:${plainPort}/`] }), undefined, reporter);
    expect(result.reason).toMatch(/^TLS handshake failed: [a-z ]+ \(is the port serving HTTPS\?\)$/);
  });

  test('reads at most 1 MiB of a body: an endless one passes when it matches early; a match past the limit is not seen', async () => {
    expect(MAX_BODY_BYTES).toBe(1024 * 1024);
    const endless = await runGate(settings({ urls: [`http://127.0.0.1:${plainPort}/endless`], expectBody: /^ok$/m }), undefined, reporter);
    expect(endless).toMatchObject({ healthy: true });
    const big = await runGate(settings({ urls: [`http://127.0.0.1:${plainPort}/big`], expectBody: /MARKER/ }), undefined, reporter);
    expect(big).toMatchObject({ healthy: false, reason: 'body did not match /MARKER/' });
  });

  test('a server that hangs up without answering', async () => {
    const result = await runGate(settings({ urls: [`http://127.0.0.1:${plainPort}/hang-up`] }), undefined, reporter);
    expect(result.reason).toBe('connection closed without a response');
  });

  test('a name that does not resolve', async () => {
    const result = await runGate(settings({ urls: ['http://no-such-host.invalid/health'] }), undefined, reporter);
    expect(result.reason).toBe('cannot resolve no-such-host.invalid');
  });

  test('HTTPS to a name that does not resolve', async () => {
    const result = await runGate(settings({ urls: [`https://no-such-host.invalid:${securePort}/health`], insecureTls: true }), undefined, reporter);
    expect(result.reason).toBe('cannot resolve no-such-host.invalid');
  });

  test('HTTPS to a name with two addresses, the first refusing: the second serves, with SNI for the name', async () => {
    // As `localhost` resolves on many hosts: ::1 first, while the app listens on 127.0.0.1 only.
    // Node tries the addresses in turn on one socket (autoSelectFamily); TLS that wrapped the
    // socket before it connected kept writing to the first, closed attempt: SIGSEGV, the process gone.
    const realLookup = dns.lookup;
    const dualStack = ((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
      if (hostname !== 'dual-stack.test') return (realLookup as (...args: unknown[]) => unknown)(hostname, options, callback);
      callback(null, [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }]);
    }) as unknown as typeof dns.lookup;
    dns.lookup = dualStack;
    try {
      const result = await runGate(settings({ urls: [`https://dual-stack.test:${securePort}/health`], insecureTls: true }), undefined, reporter);
      expect(result).toMatchObject({ healthy: true, reason: '' });
    } finally {
      dns.lookup = realLookup;
    }
    expect(seen.map((h) => h.host)).toEqual([`dual-stack.test:${securePort}`]);
    expect(serverNames).toEqual(['dual-stack.test']);
  });

  describe('through the host', () => {
    test('each request is a stream the host opens to the URL host and port, so names resolve on the host', async () => {
      const host = fakeHost();
      const result = await runGate(settings({ urls: [`http://app.internal:${plainPort}/health`], viaHost: true, successes: 2, intervalMs: 10, timeoutMs: 2000 }), host, reporter);
      expect(result).toMatchObject({ healthy: true, attempts: 2 });
      expect(host.forwards).toEqual([`app.internal:${plainPort}`, `app.internal:${plainPort}`]);
      expect(seen.map((h) => h.host)).toEqual([`app.internal:${plainPort}`, `app.internal:${plainPort}`]);
      expect(log[0]).toBe(
        `checking http://app.internal:${plainPort}/health through an SSH tunnel to deploy@203.0.113.7: 2 passing rounds in a row, every 10ms, within 2s, status 200-399`,
      );
    });

    test('HTTPS inside the tunnel, with SNI for the name', async () => {
      const host = fakeHost();
      const result = await runGate(settings({ urls: [`https://app.internal:${securePort}/health`], viaHost: true, insecureTls: true }), host, reporter);
      expect(result.healthy).toBe(true);
      expect(seen[0]!.host).toBe(`app.internal:${securePort}`);
      expect(serverNames).toEqual(['app.internal']);
    });

    test('a port nothing listens on, on the host: connection refused', async () => {
      const closed = net.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const result = await runGate(settings({ urls: [`http://127.0.0.1:${port}/health`], viaHost: true }), fakeHost(), reporter);
      expect(result.reason).toBe('connection refused');
    });

    test('a host that never opens the stream: the request timeout still holds', async () => {
      const host = { ...fakeHost(), forward: () => new Promise<Duplex>(() => undefined) };
      const started = performance.now();
      const result = await runGate(settings({ urls: ['http://127.0.0.1:8080/health'], viaHost: true, requestTimeoutMs: 200, timeoutMs: 100 }), host, reporter);
      expect(result.reason).toBe('timeout after 200ms');
      expect(performance.now() - started).toBeLessThan(100 + 200 + 150);
    });

    test('without via-host the host is not used for requests', async () => {
      const host = fakeHost();
      const result = await runGate(settings({ urls: [`http://127.0.0.1:${plainPort}/health`] }), host, reporter);
      expect(result.healthy).toBe(true);
      expect(host.forwards).toEqual([]);
    });
  });
});
