import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small stand-in for Slack on 127.0.0.1: the Web API's chat.postMessage / chat.update
 * (form or JSON bodies, `ok:false` errors like Slack's, HTTP 429 with Retry-After) and an
 * incoming webhook. It keeps the messages it was sent and records every request.
 */
export interface RecordedCall {
  /** `chat.postMessage`, `chat.update`, ... or `webhook`. */
  readonly method: string;
  readonly at: number;
  readonly contentType: string;
  readonly authorization: string;
  /** Form fields or JSON body; `blocks` and `attachments` decoded from their JSON strings. */
  readonly params: Record<string, unknown>;
  readonly status: number;
}

export interface StoredMessage {
  readonly channel: string;
  readonly ts: string;
  readonly threadTs?: string;
  text: string;
  blocks: unknown[];
  attachments: unknown[];
  edits: number;
}

export interface Channel {
  readonly id: string;
  readonly names: readonly string[];
  /** false: the app was not invited (`not_in_channel`). */
  readonly member: boolean;
}

/** What to answer instead of the next call(s) of a method. */
export type Fault =
  | { readonly kind: 'rate-limit'; readonly retryAfterSeconds: number }
  | { readonly kind: 'error'; readonly error: string }
  | { readonly kind: 'http'; readonly status: number }
  /** Closes the connection without an answer, like a network failure. */
  | { readonly kind: 'drop' };

export interface SlackApiServer {
  /** Base URL of the Web API, for `slack-api-url` (ends in /api/). */
  readonly apiUrl: string;
  /** An incoming webhook URL that this server accepts. */
  readonly webhookUrl: string;
  /** The bot token it accepts; anything else is `invalid_auth`. */
  readonly token: string;
  readonly calls: RecordedCall[];
  /** Messages by `channel/ts`, as Slack would show them now. */
  readonly messages: Map<string, StoredMessage>;
  readonly webhookPosts: Record<string, unknown>[];
  callsTo(method: string): RecordedCall[];
  message(channel: string, ts: string): StoredMessage | undefined;
  /** Stores a message as if posted `secondsAgo` seconds ago; returns its ts. */
  seedMessage(channel: string, secondsAgo: number): string;
  failNext(method: string, fault: Fault, times?: number): void;
  /** Forgets faults not used up, so one test's setup cannot leak into the next. */
  clearFaults(): void;
  close(): Promise<void>;
}

export const SLACK_TOKEN = 'xoxb-1111-2222-deploykitTEST';
const WEBHOOK_PATH = '/services/T0000TEAM/B0000HOOK/hooksecretXXXXXXXXXXXXXXXX';

const DEFAULT_CHANNELS: readonly Channel[] = [
  { id: 'C0DEPLOYS', names: ['deploys', '#deploys'], member: true },
  { id: 'C0PRIVATE', names: ['ops-private', '#ops-private'], member: false },
];

const WEBHOOK_STATUS: Readonly<Record<string, number>> = {
  invalid_payload: 400,
  invalid_blocks: 400,
  action_prohibited: 403,
  no_service: 404,
  channel_not_found: 404,
  channel_is_archived: 410,
};

export async function startSlackApiServer(channels: readonly Channel[] = DEFAULT_CHANNELS): Promise<SlackApiServer> {
  const calls: RecordedCall[] = [];
  const messages = new Map<string, StoredMessage>();
  const webhookPosts: Record<string, unknown>[] = [];
  const faults = new Map<string, Fault[]>();
  let sequence = 0;

  const nextTs = (secondsAgo = 0) => {
    sequence += 1;
    return `${Math.floor(Date.now() / 1000) - secondsAgo}.${String(sequence).padStart(6, '0')}`;
  };
  const channelNamed = (name: string) => channels.find((c) => c.id === name || c.names.includes(name));

  function webApi(method: string, params: Record<string, unknown>, authorization: string): { status: number; body: unknown } {
    const token = authorization.replace(/^Bearer\s+/i, '') || String(params.token ?? '');
    if (token === '') return refuse('not_authed');
    if (token !== SLACK_TOKEN) return refuse('invalid_auth');
    if (method !== 'chat.postMessage' && method !== 'chat.update') return refuse('unknown_method');
    const problem = layoutProblem(params);
    if (problem) return refuse(problem);
    const channel = String(params.channel ?? '');
    // chat.update takes only a channel id, like Slack's.
    const found = method === 'chat.update' ? channels.find((c) => c.id === channel) : channelNamed(channel);
    if (!found) return refuse('channel_not_found');
    if (!found.member) return refuse('not_in_channel');
    const content = { text: String(params.text ?? ''), blocks: asArray(params.blocks), attachments: asArray(params.attachments) };
    if (method === 'chat.update') {
      const stored = messages.get(`${found.id}/${String(params.ts)}`);
      if (!stored) return refuse('message_not_found');
      Object.assign(stored, content, { edits: stored.edits + 1 });
      return answer({ ok: true, channel: found.id, ts: stored.ts, text: stored.text, message: { ...content } });
    }
    const ts = nextTs();
    const threadTs = typeof params.thread_ts === 'string' ? params.thread_ts : undefined;
    messages.set(`${found.id}/${ts}`, { channel: found.id, ts, ...(threadTs ? { threadTs } : {}), ...content, edits: 0 });
    return answer({ ok: true, channel: found.id, ts, message: { type: 'message', ts, ...content, ...(threadTs ? { thread_ts: threadTs } : {}) } });
  }

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const contentType = request.headers['content-type'] ?? '';
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const isWebhook = path.startsWith('/services/');
    const method = isWebhook ? 'webhook' : path.replace(/^\/api\//, '');
    const params = parseParams(raw, contentType);
    const record = (status: number) =>
      calls.push({ method, at: Date.now(), contentType, authorization: request.headers.authorization ?? '', params, status });

    const fault = faults.get(method)?.shift();
    if (fault?.kind === 'drop') {
      record(0);
      request.socket.destroy();
      return;
    }
    if (fault?.kind === 'rate-limit') {
      record(429);
      const body = isWebhook ? 'rate_limited' : JSON.stringify({ ok: false, error: 'ratelimited' });
      response.writeHead(429, { 'retry-after': String(fault.retryAfterSeconds), 'content-type': isWebhook ? 'text/plain' : 'application/json' }).end(body);
      return;
    }
    if (fault?.kind === 'http') {
      record(fault.status);
      response.writeHead(fault.status, { 'content-type': 'text/plain' }).end('upstream trouble');
      return;
    }

    if (isWebhook) {
      let status = 200;
      let body = 'ok';
      if (fault?.kind === 'error') [status, body] = [WEBHOOK_STATUS[fault.error] ?? 400, fault.error];
      else if (request.method !== 'POST' || path !== WEBHOOK_PATH) [status, body] = [404, 'no_service'];
      else if (!contentType.startsWith('application/json')) [status, body] = [400, 'invalid_payload'];
      else if (layoutProblem(params)) [status, body] = [400, 'invalid_blocks'];
      else webhookPosts.push(params);
      record(status);
      response.writeHead(status, { 'content-type': 'text/html' }).end(body);
      return;
    }

    const result = fault?.kind === 'error' ? refuse(fault.error) : webApi(method, params, request.headers.authorization ?? '');
    record(result.status);
    response.writeHead(result.status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(result.body));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  return {
    apiUrl: `${base}/api/`,
    webhookUrl: `${base}${WEBHOOK_PATH}`,
    token: SLACK_TOKEN,
    calls,
    messages,
    webhookPosts,
    callsTo: (method) => calls.filter((call) => call.method === method),
    message: (channel, ts) => messages.get(`${channel}/${ts}`),
    seedMessage(channel, secondsAgo) {
      const ts = nextTs(secondsAgo);
      messages.set(`${channel}/${ts}`, { channel, ts, text: 'seeded', blocks: [], attachments: [], edits: 0 });
      return ts;
    },
    failNext(method, fault, times = 1) {
      const queue = faults.get(method) ?? [];
      for (let i = 0; i < times; i += 1) queue.push(fault);
      faults.set(method, queue);
    },
    clearFaults: () => faults.clear(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function refuse(error: string): { status: number; body: unknown } {
  return answer({ ok: false, error });
}

function answer(body: unknown): { status: number; body: unknown } {
  return { status: 200, body };
}

/** Slack's own checks, the few that catch a malformed deploy message. */
function layoutProblem(params: Record<string, unknown>): string | undefined {
  const { text, blocks, attachments } = params;
  if (blocks !== undefined && !Array.isArray(blocks)) return 'invalid_blocks';
  if (attachments !== undefined && !Array.isArray(attachments)) return 'invalid_attachments';
  if ((typeof text !== 'string' || text === '') && !Array.isArray(blocks)) return 'no_text';
  const all = [...asArray(blocks), ...asArray(attachments).flatMap((a) => asArray((a as { blocks?: unknown }).blocks))];
  for (const block of all as { type?: string; text?: { text?: string }; elements?: { url?: string; text?: { text?: string } }[]; fields?: unknown[] }[]) {
    if (!['header', 'section', 'actions', 'context', 'divider'].includes(block.type ?? '')) return 'invalid_blocks';
    if (block.type === 'header' && (block.text?.text ?? '').length > 150) return 'invalid_blocks';
    if (block.type === 'section' && (block.fields?.length ?? 0) > 10) return 'invalid_blocks';
    for (const element of block.elements ?? []) {
      if (!/^https?:\/\//.test(element.url ?? '') || (element.text?.text ?? '').length > 75) return 'invalid_blocks';
    }
  }
  return undefined;
}

function parseParams(raw: string, contentType: string): Record<string, unknown> {
  if (raw === '') return {};
  const params: Record<string, unknown> = contentType.startsWith('application/json')
    ? (JSON.parse(raw) as Record<string, unknown>)
    : Object.fromEntries(new URLSearchParams(raw));
  for (const key of ['blocks', 'attachments']) {
    const value = params[key];
    if (typeof value === 'string') {
      try {
        params[key] = JSON.parse(value);
      } catch {
        // left as the string it was: layoutProblem refuses it
      }
    }
  }
  return params;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}
