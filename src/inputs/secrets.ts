/**
 * Which inputs hold secrets, what of them is masked in the runner's log, and how a value is
 * shown in an error. Pure: the runner edge (src/actions/core-io.ts) registers what
 * `maskedForms` returns, and `invalid()` (src/inputs/parse.ts) asks `shownValue`.
 */

/** Inputs whose value is, or carries, a secret: an error about one describes its shape and never shows the value. */
const SECRET_INPUTS: ReadonlySet<string> = new Set([
  'private-key',
  'passphrase',
  'registry-password',
  'postgres-url',
  'restore-to',
  'headers',
  'env',
  'slack-token',
  'slack-webhook-url',
  's3-access-key-id',
  's3-secret-access-key',
  'encryption-identity',
  'github-token',
]);

/** URL inputs: their user info and query may hold credentials, so errors show them redacted (`redactUrl`). */
const URL_INPUTS: ReadonlySet<string> = new Set(['url', 'health-url', 's3-endpoint', 'slack-api-url', 'environment-url']);

/**
 * The shortest part of a secret that is masked on its own. The runner replaces every
 * occurrence of a masked string, so masking `1` or `abc` would blank out every such text in
 * the log, and the blanks would spell out where the secret's characters stand; a secret that
 * short is guessed in moments anyway. Whole values of secret inputs are masked at any length.
 */
export const MIN_MASKED_LENGTH = 4;

/**
 * The value as an error may show it: undefined for a secret input; a URL input with its
 * credentials hidden, or, when it is no URL, as given only if it has no place for them (no
 * `@`, `?` or `#`).
 */
export function shownValue(input: string, value: string): string | undefined {
  if (SECRET_INPUTS.has(input)) return undefined;
  if (URL_INPUTS.has(input)) return redactUrl(value) ?? (/[@?#]/.test(value) ? undefined : value);
  return value;
}

/**
 * What the runner must mask for one secret value: the whole of it (whatever its length), and
 * each of its lines of MIN_MASKED_LENGTH or more on their own (the runner matches masks line
 * by line, so a multi-line key needs every line masked).
 */
export function maskedForms(secret: string): string[] {
  if (secret.trim() === '') return [];
  const lines = secret.split(/\r?\n/).map((line) => line.trim());
  return [...new Set([secret, ...lines.filter((line) => line.length >= MIN_MASKED_LENGTH && line !== secret)])];
}

/**
 * The secrets masked in a run, and text with them replaced by `***`: for what leaves the
 * runner's log (outputs, the job summary), and for text read from a host that may print them
 * (a container's logs), before it is written anywhere. Forms shorter than MIN_MASKED_LENGTH
 * are not replaced here: a one-character secret input (`-`) would blank out every `-` of every
 * message and name, and a value that short is guessed in moments anyway (the runner still
 * masks it in its log, as it masks whatever it is given).
 */
export class MaskList {
  private forms: string[] = [];

  add(form: string): void {
    if (form.length < MIN_MASKED_LENGTH || this.forms.includes(form)) return;
    // Longest first, so a secret that holds another is replaced whole.
    this.forms = [...this.forms, form].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    return this.forms.reduce((out, form) => out.replaceAll(form, '***'), text);
  }
}

/** Parts of a value that may or may not be secret (an env value, a header value): masked from MIN_MASKED_LENGTH on. */
export const maskableParts = (parts: readonly string[]): string[] => parts.filter((part) => part.length >= MIN_MASKED_LENGTH);

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
};

/**
 * The secrets a URL carries: its password (whole, at any length), a user name given without a
 * password (`https://TOKEN@host`, a token), and each query value (`?token=...`), the last two
 * from MIN_MASKED_LENGTH on. Each as written in the URL and decoded, since either may be printed.
 */
export function urlSecrets(url: URL): string[] {
  const whole = url.password === '' ? [] : [url.password, decode(url.password)];
  const user = url.password === '' && url.username !== '' ? [url.username, decode(url.username)] : [];
  const query = url.search
    .slice(1)
    .split('&')
    .map((pair) => pair.slice(pair.indexOf('=') + 1))
    .filter((value, i, all) => value !== '' && all.indexOf(value) === i)
    .flatMap((value) => [value, decode(value)]);
  return [...new Set([...whole, ...maskableParts([...user, ...query])])];
}

/**
 * A URL as shown to people: its password, a user name given without one, and every query
 * value replaced by `***`. Undefined when the text is not a URL (its parts are then unknown).
 */
export function redactUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.password === '' && url.username === '' && url.search === '') return text;
  if (url.password !== '') url.password = '***';
  else if (url.username !== '') url.username = '***';
  if (url.search !== '') {
    url.search = url.search
      .slice(1)
      .split('&')
      .map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=***` : '***'))
      .join('&');
  }
  return url.toString().replaceAll('%2A%2A%2A', '***');
}
