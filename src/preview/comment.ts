import { tableCell } from '../util/markdown.js';

/** The one comment a pull request gets about its preview, rewritten in place at every change. */
export type PreviewState =
  | { readonly kind: 'live'; readonly gate: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly serving: string | undefined }
  | { readonly kind: 'removed'; readonly why: string };

export interface CommentFacts {
  readonly name: string;
  readonly url: string;
  readonly version: string;
  readonly commit: string;
  readonly state: PreviewState;
  readonly at: Date;
  readonly runUrl: string;
}

/** The hidden first line that finds the comment again (one per preview name). */
export const commentMarker = (name: string): string => `<!-- deploy-kit preview ${name} -->`;

export function previewComment(f: CommentFacts): string {
  const time = `${f.at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const heading = {
    live: `### Preview is live: ${f.url}`,
    failed: `### Preview failed`,
    removed: `### Preview removed`,
  }[f.state.kind];
  const rows: [string, string][] = [];
  if (f.state.kind === 'removed') {
    rows.push(['Why', f.state.why]);
  } else {
    rows.push(['URL', f.state.kind === 'failed' && f.state.serving === undefined ? `${f.url} (not serving)` : f.url]);
    rows.push(['Version', `\`${f.version}\`${f.commit ? ` (${f.commit.slice(0, 7)})` : ''}`]);
    rows.push(['Health gate', f.state.kind === 'live' ? f.state.gate : `failed: ${f.state.reason}`]);
    if (f.state.kind === 'failed' && f.state.serving) rows.push(['Serving', f.state.serving]);
  }
  rows.push(['Updated', time]);
  const link = f.runUrl === 'local' ? '' : `\n[The run](${f.runUrl})`;
  return [commentMarker(f.name), heading, '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${tableCell(v)} |`)].join('\n') + `\n${link}`.trimEnd() + '\n';
}
