import { Agent, request } from 'node:http';

/** What a stream of requests through the proxy saw. */
export interface LoadReport {
  readonly sent: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly connectionErrors: number;
  /**
   * Requests sent again because the server closed an idle keep-alive connection just as they
   * went out on it (what browsers do for a GET, RFC 9112 section 9.3.1); counted, not hidden.
   */
  readonly retriedOnClosedKeepAlive: number;
  readonly maxLatencyMs: number;
  readonly seconds: number;
  /** Bodies of 2xx responses, in order of first appearance (which versions answered). */
  readonly bodies: readonly string[];
  /** How many 2xx responses had each body. */
  readonly counts: Readonly<Record<string, number>>;
  /** A few examples of failures, for the log. */
  readonly samples: readonly string[];
}

/**
 * Sends GET requests to `url` (loopback only) at `ratePerSecond`, each on a fresh tick, until
 * `stop()` or `maxRequests`/`maxMs`; then waits for the ones in flight. Keep-alive, like a browser.
 */
export function startLoad(url: string, options: { ratePerSecond?: number; maxRequests?: number; maxMs?: number } = {}): { stop: () => Promise<LoadReport> } {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error('load tests stay on loopback');
  const rate = options.ratePerSecond ?? 100;
  const maxRequests = options.maxRequests ?? 20_000;
  const maxMs = options.maxMs ?? 180_000;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let ok = 0;
  let non2xx = 0;
  let connectionErrors = 0;
  let retriedOnClosedKeepAlive = 0;
  let maxLatencyMs = 0;
  const bodies: string[] = [];
  const counts: Record<string, number> = {};
  const samples: string[] = [];

  const one = (t0 = performance.now(), retry = true): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (outcome: { status?: number; body?: string; error?: string }) => {
        maxLatencyMs = Math.max(maxLatencyMs, performance.now() - t0);
        if (outcome.error !== undefined) connectionErrors += 1;
        else if (outcome.status! >= 200 && outcome.status! < 300) ok += 1;
        else non2xx += 1;
        const good = outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300;
        if (good && outcome.body !== undefined && !bodies.includes(outcome.body)) bodies.push(outcome.body);
        if (good && outcome.body !== undefined) counts[outcome.body] = (counts[outcome.body] ?? 0) + 1;
        if ((outcome.error !== undefined || !(outcome.status! >= 200 && outcome.status! < 300)) && samples.length < 5) {
          samples.push(outcome.error ?? `HTTP ${outcome.status}`);
        }
        resolve();
      };
      // The resend goes out on a new connection: the idle ones may all be closing at once.
      const req = request(target, { agent: retry ? agent : false, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: body.trim() }));
        res.on('error', (e) => done({ error: e.message }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        const code = (e as NodeJS.ErrnoException).code;
        // A reused connection the server had just closed: nothing reached the app; send it again, once.
        if (retry && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
          retriedOnClosedKeepAlive += 1;
          void one(t0, false).then(resolve);
          return;
        }
        const where = retry ? (req.reusedSocket ? 'reused connection' : 'new connection') : 'resend on a new connection';
        done({ error: `${code ?? e.message} (${where}, at ${((performance.now() - started) / 1000).toFixed(1)}s)` });
      });
      req.end();
    });

  const interval = 1000 / rate;
  let stopped = false;
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - started) / interval);
    while (sent < due && sent < maxRequests && !stopped) {
      sent += 1;
      const p = one();
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
    }
    if (sent >= maxRequests || performance.now() - started > maxMs) stopped = true;
  }, 5);

  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inFlight]);
      agent.destroy();
      return { sent, ok, non2xx, connectionErrors, retriedOnClosedKeepAlive, maxLatencyMs: Math.round(maxLatencyMs), seconds: Number(((performance.now() - started) / 1000).toFixed(1)), bodies, counts, samples };
    },
  };
}
