import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigurationError } from '../errors.js';
import { parseList, printable } from '../inputs/parse.js';
import { IMAGES_FILE } from '../release/layout.js';
import type { ComposeFileInput } from './settings.js';

const RESERVED = new Set(['.env', 'release.json', IMAGES_FILE]);

const isInside = (root: string, path: string): boolean => {
  const inside = relative(root, path);
  return !inside.startsWith('..') && !isAbsolute(inside);
};

/**
 * Reads one file named by input `input` where its real path (every link on the way resolved)
 * is a regular file inside the workspace: a link in the repository cannot make the runner upload
 * one of its own files (`/proc/self/environ` holds every input, secrets included).
 */
export function readWorkspaceFile(workspace: string, full: string, path: string, input = 'compose-file'): string {
  const problem = (what: string) => new ConfigurationError(`Input '${input}': '${printable(path)}' ${what}`);
  if (!isInside(workspace, full)) throw problem('is outside the workspace; name a file inside it.');
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    throw problem(`was not found in ${workspace}. Did the job check out the repository?`);
  }
  if (!isInside(realpathSync(workspace), real)) throw problem(`is a link to a file outside the workspace; ${input === 'compose-file' ? 'compose files must be regular files' : 'it must be a regular file'} inside it.`);
  // Opened without following a link (the path is real already) and checked on the open file, so what is read is what was checked.
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    throw problem('cannot be read.');
  }
  try {
    if (!fstatSync(fd).isFile()) throw problem('is not a regular file.');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the compose files named by the `compose-file` input from the workspace and checks
 * each is a compose file, before anything is sent to a host.
 */
export function readComposeFiles(raw: string, workspace: string): { files: ComposeFileInput[]; version: string | undefined } {
  const paths = parseList(raw || 'docker-compose.yml');
  const files: ComposeFileInput[] = [];
  let version: string | undefined;
  for (const path of paths) {
    const full = resolve(workspace, path);
    if (!isInside(workspace, full)) {
      throw new ConfigurationError(`Input 'compose-file' must name files inside the workspace; '${printable(path)}' is outside it.`);
    }
    const name = basename(full);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || RESERVED.has(name)) {
      throw new ConfigurationError(`Input 'compose-file' names '${printable(name)}': use file names of letters, digits, . _ - (and not ${[...RESERVED].join(', ')}).`);
    }
    if (files.some((f) => f.name === name)) {
      throw new ConfigurationError(`Input 'compose-file' names two files called '${name}'; the release folder keeps them side by side, so give them different names.`);
    }
    const content = readWorkspaceFile(workspace, full, path);
    let document: unknown;
    try {
      document = parse(content);
    } catch (error) {
      throw new ConfigurationError(`Input 'compose-file': '${printable(path)}' is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    const services = (document as { services?: unknown } | null)?.services;
    if (files.length === 0 && (typeof services !== 'object' || services === null || Array.isArray(services))) {
      throw new ConfigurationError(`Input 'compose-file': '${printable(path)}' is not a compose file (it has no 'services:' mapping).`);
    }
    if (files.length === 0) {
      const v = (document as { version?: unknown }).version;
      version = v === undefined ? undefined : String(v);
    }
    files.push({ name, content });
  }
  return { files, version };
}
