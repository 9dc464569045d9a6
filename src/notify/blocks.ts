/**
 * The subset of Slack's Block Kit that deploy-kit sends, and small constructors for it.
 * Text that came from people (app names, versions) is escaped here, in one place.
 */
export interface PlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}

export interface Mrkdwn {
  readonly type: 'mrkdwn';
  readonly text: string;
}

export interface HeaderBlock {
  readonly type: 'header';
  readonly text: PlainText;
}

export interface SectionBlock {
  readonly type: 'section';
  readonly text?: Mrkdwn;
  readonly fields?: readonly Mrkdwn[];
}

export interface LinkButton {
  readonly type: 'button';
  readonly action_id: string;
  readonly text: PlainText;
  readonly url: string;
  readonly style?: 'primary' | 'danger';
}

export interface ActionsBlock {
  readonly type: 'actions';
  readonly elements: readonly LinkButton[];
}

export type Block = HeaderBlock | SectionBlock | ActionsBlock;

export interface Attachment {
  readonly color: string;
  readonly blocks: readonly Block[];
}

/** What chat.postMessage, chat.update and an incoming webhook all take. */
export interface SlackMessage {
  /** Plain-text fallback: notifications, screen readers, clients without Block Kit. */
  readonly text: string;
  readonly blocks: readonly Block[];
  readonly attachments: readonly Attachment[];
}

const HEADER_MAX = 150;
const BUTTON_TEXT_MAX = 75;

export function header(text: string): HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: clip(text, HEADER_MAX), emoji: true } };
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** Label/value pairs, two columns on a desktop and stacked on a phone. */
export function fields(pairs: readonly (readonly [label: string, value: string])[]): SectionBlock {
  return { type: 'section', fields: pairs.map(([label, value]) => ({ type: 'mrkdwn', text: `*${escape(label)}*\n${value}` })) };
}

export function linkButton(actionId: string, text: string, url: string, style?: 'primary' | 'danger'): LinkButton {
  const button: LinkButton = { type: 'button', action_id: actionId, text: { type: 'plain_text', text: clip(text, BUTTON_TEXT_MAX) }, url };
  return style ? { ...button, style } : button;
}

/** Escapes the three characters Slack's mrkdwn gives meaning to. */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A mrkdwn link `<url|label>`; the label escaped and the URL kept from closing the link early. */
export function link(url: string, label: string): string {
  const safeUrl = url.replace(/[|<> ]/g, (c) => encodeURIComponent(c));
  return `<${safeUrl}|${escape(label).replace(/\|/g, '¦')}>`;
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
