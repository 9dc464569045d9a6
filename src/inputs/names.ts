import { invalid, required } from './parse.js';

/** Rules for the names that become folder names, Compose project names and image tags on the host. */
const APP = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const VERSION = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const RELEASE_ID = /^[1-9][0-9]{0,9}$/;

export function parseAppName(raw: string, fallback: string): string {
  const name = raw === '' ? fallback : raw;
  if (name === '') throw invalid('app', 'is required outside a GitHub repository (no GITHUB_REPOSITORY to default to)');
  if (!APP.test(name)) throw invalid('app', 'must be lowercase letters, digits, - and _, starting with a letter or digit (at most 63)', name);
  return name;
}

/** A version is written into `.env` and used as an image tag, so it follows Docker's tag rules. */
export function parseVersion(raw: string, name = 'version'): string {
  const version = required(name, raw);
  if (!VERSION.test(version)) throw invalid(name, 'must be an image tag: letters, digits, _ . -, not starting with . or - (at most 128)', version);
  return version;
}

export function isReleaseId(value: string): boolean {
  return RELEASE_ID.test(value);
}

/** Deploy paths: absolute or under `~/`, plain characters, no `..` and no option-like segments. */
export function parseDeployPath(raw: string, name = 'deploy-path'): string {
  if (raw === '') return '';
  const ok = /^(~|~\/|\/)?[A-Za-z0-9._/-]*$/.test(raw) && !raw.split('/').some((seg) => seg === '..' || seg.startsWith('-'));
  // `~user` would name another user's home (and is not expanded here): only `~` or `~/...`.
  if (!ok || !/^(~$|~\/|\/)/.test(raw)) {
    throw invalid(name, "must be an absolute path or start with '~/', using letters, digits, . _ - and /, without '..'", raw);
  }
  return raw;
}
