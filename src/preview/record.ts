import { OperationError } from '../errors.js';
import { formatDuration } from '../inputs/parse.js';

/** What the host keeps about one preview, in `<previews-path>/<name>/preview.json`. */
export interface PreviewRecord {
  readonly name: string;
  readonly app: string;
  readonly pr: number;
  /** The loopback port the proxy reaches it at; kept for the preview's life, so every release and rollback keeps its route. */
  readonly port: number;
  readonly url: string;
  readonly version: string;
  readonly createdAt: string;
  /** When it was last deployed: what `ttl` and `when-full: remove-oldest` go by. */
  readonly deployedAt: string;
  /** The PostgreSQL database made for it, when it has one. */
  readonly database?: string;
}

export function parseRecord(text: string): PreviewRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<PreviewRecord>;
    if (typeof value.name !== 'string' || typeof value.pr !== 'number' || typeof value.port !== 'number' || typeof value.deployedAt !== 'string') return undefined;
    return value as PreviewRecord;
  } catch {
    return undefined;
  }
}

export type WhenFull = 'remove-oldest' | 'refuse';

/**
 * Which previews make room for `name` when there are `max` already: the ones deployed
 * longest ago, or none and a refusal. A preview being redeployed takes no new room.
 */
export function makeRoom(others: readonly PreviewRecord[], name: string, max: number, whenFull: WhenFull): PreviewRecord[] {
  const rest = others.filter((p) => p.name !== name);
  if (rest.length < max) return [];
  if (whenFull === 'refuse') {
    throw new OperationError(
      `There are already ${rest.length} previews (max-previews: ${max}): ${rest.map((p) => `#${p.pr}`).join(', ')}. ` +
        `Close one, or set 'when-full: remove-oldest' to remove the one deployed longest ago. Nothing was changed.`,
    );
  }
  return [...rest].sort((a, b) => a.deployedAt.localeCompare(b.deployedAt)).slice(0, rest.length - max + 1);
}

/** The previews not deployed for longer than `ttlMs`, with how long each has been idle. */
export function expired(previews: readonly PreviewRecord[], ttlMs: number, now: Date): { preview: PreviewRecord; idle: string }[] {
  return previews
    .map((preview) => ({ preview, idleMs: now.getTime() - Date.parse(preview.deployedAt) }))
    .filter(({ idleMs }) => idleMs > ttlMs)
    .map(({ preview, idleMs }) => ({ preview, idle: formatIdle(idleMs) }));
}

/** `8d 3h`, `5h`, or formatDuration's words below an hour. */
function formatIdle(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 1) return formatDuration(ms);
  const days = Math.floor(hours / 24);
  return days === 0 ? `${hours}h` : `${days}d${hours % 24 === 0 ? '' : ` ${hours % 24}h`}`;
}

export interface PortRange {
  readonly first: number;
  readonly last: number;
}

/** The lowest port of the range that no preview holds and nothing on the host listens on. */
export function pickPort(range: PortRange, taken: ReadonlySet<number>): number {
  for (let port = range.first; port <= range.last; port++) if (!taken.has(port)) return port;
  throw new OperationError(`Every port of 'port-range' (${range.first}-${range.last}) is taken on the host; widen the range or close previews.`);
}
