import { ShellLine, constant, quote } from '../shell/quote.js';
import { SectionedLine, inSections } from '../shell/sections.js';
import type { ComposeVariant } from '../compose/cli.js';
import { AppLayout } from './layout.js';
import { LedgerEvent, ReleaseSummary, compareIds, parseLedger, summarize } from './ledger.js';

/** What a host tells in its first round trip: who we are there and which Compose it has. */
export interface HostFacts {
  readonly home: string;
  readonly compose: ComposeVariant | undefined;
}

/** Run as the connection's greeting (RemoteHost.connect): its text stays free of quotes, backslashes, ! and newlines. */
export const probeHost: ShellLine = constant(
  'echo "home=$HOME"; ' +
    'if docker compose version >/dev/null 2>&1; then echo compose=v2; ' +
    'elif command -v docker-compose >/dev/null 2>&1; then echo compose=v1; else echo compose=none; fi',
);

export function parseHostFacts(stdout: string): HostFacts {
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(stdout)?.[1] ?? '';
  const compose = value('compose');
  return { home: value('home'), compose: compose === 'v1' || compose === 'v2' ? compose : undefined };
}

/** The app's state on the host: the active release, the release folders, and the ledger. */
export interface AppState {
  readonly current: string | undefined;
  readonly releaseDirs: readonly string[];
  readonly events: readonly LedgerEvent[];
  readonly releases: readonly ReleaseSummary[];
}

type StateSection = 'current' | 'releases' | 'ledger';

/** One round trip: where `current` points, the release folders, and the ledger. */
export function readAppState(layout: AppLayout): SectionedLine<StateSection> {
  return inSections<StateSection>([
    ['current', constant(`readlink ${quote(layout.current)} 2>/dev/null`)],
    ['releases', constant(`ls -1 ${quote(layout.releases)} 2>/dev/null`)],
    ['ledger', constant(`cat ${quote(layout.ledger)} 2>/dev/null`)],
  ]);
}

/** The state in the output of `readAppState` (its sections, read with the nonce of that very line). */
export function parseAppState(sections: ReadonlyMap<StateSection, string>): AppState {
  const link = (sections.get('current') ?? '').trim();
  const current = /(?:^|\/)releases\/(\d+)\/?$/.exec(link)?.[1];
  const releaseDirs = (sections.get('releases') ?? '')
    .split('\n')
    .filter((name) => /^\d+$/.test(name))
    .sort(compareIds);
  const events = parseLedger(sections.get('ledger') ?? '');
  return { current, releaseDirs, events, releases: summarize(events) };
}
