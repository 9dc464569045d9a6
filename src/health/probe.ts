import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { formatDuration } from '../inputs/parse.js';

/** What one request found: a status and round-trip time, or the failure in words. */
export interface ProbeOutcome {
  readonly ok: boolean;
  readonly status?: number;
  /** Round trip in whole milliseconds, from opening the connection to the end of the body. */
  readonly ms?: number;
  readonly error?: string;
  /** A failing response's first BODY_EXCERPT_BYTES bytes, as text: what the app said was wrong. */
  readonly body?: string;
}

/** Opens a TCP stream to host:port: directly, or from the SSH host over its connection. */
export type OpenStream = (hostname: string, port: number) => Promise<Duplex>;

export interface ProbeOptions {
  readonly passes: (status: number) => boolean;
  readonly expectBody: RegExp | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly insecureTls: boolean;
  /** The URL as the failure words name it (a password hidden). */
  readonly shownUrl?: string;
  /** Direct TCP when not given. */
  readonly open?: OpenStream;
}

/** At most this much of a body is read (and matched against `expect-body`). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** How much of a failing response's body a failure report shows. */
export const BODY_EXCERPT_BYTES = 500;

const USER_AGENT = 'deploy-kit-healthgate';

/**
 * One GET of one URL on a fresh connection, within `timeoutMs` all told (connecting, the
 * tunnel's channel, TLS, headers and body). Never throws: every failure comes back in words.
 */
export async function probeUrl(url: string, options: ProbeOptions): Promise<ProbeOutcome> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ ok: false, error: `timeout after ${formatDuration(options.timeoutMs)}` });
    }, options.timeoutMs);
  });
  try {
    return await Promise.race([exchange(new URL(url), options, controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function exchange(target: URL, options: ProbeOptions, signal: AbortSignal): Promise<ProbeOutcome> {
  const started = performance.now();
  const secure = target.protocol === 'https:';
  const hostname = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port) || (secure ? 443 : 80);
  let raw: Duplex;
  try {
    raw = options.open ? await options.open(hostname, port) : await connectDirect(hostname, port, signal);
  } catch (error) {
    return { ok: false, error: networkFailure(error, hostname) };
  }
  if (signal.aborted) {
    raw.destroy();
    return { ok: false, error: 'aborted' };
  }
  const socket: Duplex = secure
    ? tls.connect({
        socket: raw,
        host: hostname,
        ...(net.isIP(hostname) === 0 ? { servername: hostname } : {}),
        rejectUnauthorized: !options.insecureTls,
        ALPNProtocols: ['http/1.1'],
      })
    : raw;

  return new Promise<ProbeOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      raw.destroy();
      resolve(outcome);
    };
    const fail = (error: unknown) => finish({ ok: false, error: networkFailure(error, hostname) });
    const onAbort = () => finish({ ok: false, error: 'aborted' });
    signal.addEventListener('abort', onAbort);
    raw.on('error', fail);
    if (socket !== raw) socket.on('error', fail);

    const request = http.request({
      host: hostname,
      port,
      method: 'GET',
      path: `${target.pathname}${target.search}`,
      headers: { Host: target.host, 'User-Agent': USER_AGENT, Accept: '*/*', ...options.headers },
      ...(target.username === '' ? {} : { auth: `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}` }),
      createConnection: () => socket as net.Socket,
    });
    request.on('error', fail);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const judge = () => {
        const ms = Math.round(performance.now() - started);
        const body = Buffer.concat(chunks);
        const excerpt = body.length > 0 ? { body: body.subarray(0, BODY_EXCERPT_BYTES).toString('utf8').replace(/\uFFFD+$/, '') } : {};
        if (!options.passes(status)) return finish({ ok: false, status, ms, error: `HTTP ${status} from ${options.shownUrl ?? target.toString()}`, ...excerpt });
        if (options.expectBody && !options.expectBody.test(body.subarray(0, MAX_BODY_BYTES).toString('utf8'))) {
          return finish({ ok: false, status, ms, error: `body did not match ${String(options.expectBody)}`, ...excerpt });
        }
        return finish({ ok: true, status, ms });
      };
      response.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) judge();
      });
      response.on('end', judge);
      response.on('error', fail);
      response.on('close', () => {
        if (!response.complete) finish({ ok: false, status, error: 'connection closed before the response ended' });
      });
    });
    request.end();
  });
}

/**
 * A TCP connection from here to host:port, once it is established. TLS starts only on a
 * connected stream, as it does on a tunnel's open channel. A socket still connecting may try
 * a name's addresses in turn (Node's autoSelectFamily, `localhost` as ::1 then 127.0.0.1), each
 * attempt on a new handle: TLS wrapped around it early kept the first, closed one and crashed
 * Node 20 and 24 with SIGSEGV (TLSWrap writing to a stream already gone).
 */
async function connectDirect(hostname: string, port: number, signal: AbortSignal): Promise<net.Socket> {
  const socket = net.connect({ host: hostname, port });
  try {
    await once(socket, 'connect', { signal });
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/;

/** A connection's failure in a few words: `connection refused`, `connection reset`... */
export function networkFailure(error: unknown, hostname: string): string {
  const err = (error ?? {}) as NodeJS.ErrnoException & { reason?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  // Not `instanceof Error`: errors may come from another realm (a test runner's VM).
  const message = typeof err.message === 'string' ? err.message : String(error);
  // ssh2's failure to open a forwarded channel: reason 2 is CONNECT_FAILED, 1 ADMINISTRATIVELY_PROHIBITED.
  if (/^\(SSH\) Channel open failure/.test(message)) {
    if (err.reason === 2 && /refused/i.test(message)) return 'connection refused';
    if (err.reason === 1) return 'the SSH host does not allow port forwarding (AllowTcpForwarding in its sshd_config)';
    return `the SSH host could not connect: ${message.replace(/^\(SSH\) Channel open failure: /, '')}`;
  }
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return message === 'socket hang up' ? 'connection closed without a response' : 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${hostname}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to host';
    case 'ETIMEDOUT':
      return 'connect timed out';
    case 'EPROTO': {
      // OpenSSL's `...:error:0A00010B:SSL routines:func:wrong version number:file:line:`: keep the reason.
      const reason = /error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/.exec(message)?.[1] ?? message.trim();
      return `TLS handshake failed: ${reason} (is the port serving HTTPS?)`;
    }
    default:
  }
  if (TLS_TRUST.test(code)) {
    // Node 24 appends advice about its own flags ('; if the root CA is installed locally, ...'): keep the reason only.
    return `TLS certificate not accepted: ${message.split(';')[0]!.trim()} (set 'insecure-tls: true' to accept it)`;
  }
  if (code.startsWith('HPE_')) return `invalid HTTP response (${message})`;
  return message;
}
