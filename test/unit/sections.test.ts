import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appLayout } from '../../src/release/layout.js';
import { parseAppState, readAppState } from '../../src/release/state.js';
import { Sections, inSections } from '../../src/shell/sections.js';
import { constant, quote } from '../../src/shell/quote.js';

// Issue 17, item 3: output read back in sections is cut only at markers that carry the nonce
// of the very command line that printed them. The lines run in a real `sh` here.

const sh = (text: string): string => execFileSync('sh', ['-c', text], { encoding: 'utf8' });

/** Every marker text deploy-kit ever used, and one shaped like today's with a nonce of its own. */
const FORGED = ['@@deploy-kit@@ledger', '@@deploy-kit@@current', '@@release', '@@deploy-kit@@config', '@@deploy-kit-swarm@@tasks', '@@deploy-kit-0123456789abcdef01234567@@ledger'];

describe('sections of one command line', () => {
  test('each part exactly as printed, with or without a final newline, markers of other nonces inside', () => {
    const line = inSections([
      ['a', constant(`printf 'one\\ntwo\\n'`)],
      ['b', constant(`printf '%s' ${quote(FORGED.join('\n'))}`)],
      ['c', constant('false')],
    ]);
    expect(line.sections.read(sh(line.text))).toEqual(new Map([['a', 'one\ntwo\n'], ['b', FORGED.join('\n')], ['c', '']]));
    // Output trimmed before it is read (as RemoteHost.run does) reads the same.
    expect(line.sections.read(sh(line.text).trim()).get('a')).toBe('one\ntwo\n');
  });

  test('each line draws its own nonce: one line cannot read, or forge, another\'s sections', () => {
    const first = inSections([['x', constant('echo 1')]]);
    const second = inSections([['x', constant('echo 2')]]);
    expect(first.text).not.toBe(second.text);
    expect(second.sections.read(sh(first.text)).size).toBe(0);
    expect(new Sections('00112233aabbccdd').start('ledger').text).toBe("printf '\\n%s\\n' @@deploy-kit-00112233aabbccdd@@ledger");
  });
});

describe("the host state reader, against a ledger whose free text holds every marker", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'deploy-kit-state-'));
    for (const id of ['1', '2', '3']) mkdirSync(join(root, 'releases', id), { recursive: true });
    symlinkSync('releases/3', join(root, 'current'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('the events after a reason with the markers are all read, and so are current and the releases', () => {
    const reason = FORGED.join(' ');
    const events = [
      { release: '1', event: 'started', at: 't', version: 'v1' },
      { release: '1', event: 'deployed', at: 't' },
      { release: '2', event: 'started', at: 't', version: 'v2' },
      { release: '2', event: 'deployed', at: 't' },
      { release: '2', event: 'rolled-back', at: 't', reason },
      { release: '1', event: 'restored', at: 't', reason, actor: `octocat\n${reason}` },
      { release: '3', event: 'started', at: 't', version: 'v3' },
      { release: '3', event: 'failed', at: 't', reason: `pre-deploy failed: ${FORGED.join('\n')}` },
    ];
    writeFileSync(join(root, 'ledger.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    const line = readAppState(appLayout(root));
    const state = parseAppState(line.sections.read(sh(line.text)));
    expect(state.current).toBe('3');
    expect(state.releaseDirs).toEqual(['1', '2', '3']);
    expect(state.events).toEqual(events);
    expect(state.releases.map((r) => `${r.id}:${r.status}`)).toEqual(['1:deployed', '2:rolled-back', '3:failed']);
  });
});
