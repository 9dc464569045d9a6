import { ShellLine, constant, quote } from '../shell/quote.js';
import { Color } from './types.js';

/**
 * Blue-green naming and the host facts it rests on: each colour is a compose project of its
 * own (`<app>-blue`, `<app>-green`), and `<root>/active-color` names the one that has traffic.
 */
export const otherColor = (color: Color | undefined): Color => (color === 'blue' ? 'green' : 'blue');

export const colorProjectName = (app: string, color: Color): string => `${app}-${color}`;

export const activeColorFile = (root: string): string => `${root}/active-color`;

export function parseColor(text: string): Color | undefined {
  const word = text.trim();
  return word === 'blue' || word === 'green' ? word : undefined;
}

/** Prints the active colour, or nothing when the app never ran blue-green. */
export const readActiveColor = (root: string): ShellLine => constant(`cat ${quote(activeColorFile(root))} 2>/dev/null || true`);

/** Records the colour that now has traffic (a temp file renamed over the old one). */
export function writeActiveColor(root: string, color: Color): ShellLine {
  const file = activeColorFile(root);
  return constant(`printf '%s\\n' ${quote(color)} > ${quote(`${file}.next`)} && mv -f ${quote(`${file}.next`)} ${quote(file)}`);
}
