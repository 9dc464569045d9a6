import { randomBytes } from 'node:crypto';
import { Command, ShellLine, constant, quote, shellLine } from './quote.js';

/**
 * Several outputs read back in one round trip, each after a marker line. The marker holds a
 * nonce drawn for this one command line, so no text the output carries (a ledger reason, a
 * hook's stderr quoted in a failure message, an env value `compose config` prints, a
 * container's error) can end a section early or start one: it was written before the nonce
 * existed. The one place deploy-kit splits command output on markers.
 */
export class Sections<K extends string> {
  private readonly prefix: string;

  constructor(nonce: string = randomBytes(12).toString('hex')) {
    if (!/^[0-9a-f]{8,}$/.test(nonce)) throw new Error('A section nonce is hexadecimal, at least 8 digits');
    this.prefix = `@@deploy-kit-${nonce}@@`;
  }

  /** Shell text that starts section `name` on stdout (on a line of its own, after a newline of its own). */
  start(name: K): ShellLine {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`Not a section name: ${name}`);
    return constant(`printf '\\n%s\\n' ${quote(`${this.prefix}${name}`)}`);
  }

  /**
   * Shell text that starts section `${name}-<value>` where the value is shell variable
   * `variable`'s (a section per item of a loop: a container id). The value must be a word of
   * letters, digits, `_`, `.` or `-`, which a container id is.
   */
  startEach(name: string, variable: string): ShellLine {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`Not a section name: ${name}`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw new Error(`Not a shell variable: ${variable}`);
    return constant(`printf '\\n%s%s\\n' ${quote(`${this.prefix}${name}-`)} "$${variable}"`);
  }

  /** Each section's output exactly as its command printed it, by name; a section whose marker never came is absent. */
  read(stdout: string): Map<K, string> {
    const found = new Map<K, string>();
    // The newline each marker prints before itself is cut with it; output trimmed at its start lost the first one.
    for (const chunk of `\n${stdout}`.split(`\n${this.prefix}`).slice(1)) {
      const newline = chunk.indexOf('\n');
      found.set((newline === -1 ? chunk : chunk.slice(0, newline)) as K, newline === -1 ? '' : chunk.slice(newline + 1));
    }
    return found;
  }
}

/** A command line whose stdout is read back as sections: run it, then `sections.read` its stdout. */
export interface SectionedLine<K extends string> extends ShellLine {
  readonly sections: Sections<K>;
}

/**
 * Runs each part in order, each after its section's marker; the line's exit status is 0
 * (each part reports through its output: a part that fails prints what it printed).
 */
export function inSections<K extends string>(parts: readonly (readonly [K, Command | ShellLine])[], sections: Sections<K> = new Sections<K>()): SectionedLine<K> {
  const text = parts.map(([name, part]) => `${sections.start(name).text}; ${shellLine(part).text}`).join('; ');
  return { text: `${text}; true`, sections };
}
