import { parse } from 'yaml';
import type { ComposeFileInput } from '../deploy/settings.js';

/**
 * What a preview's compose files may not do. A preview runs a pull request's code on the host,
 * so it gets a world of its own: its own project, containers, networks and volumes, reached
 * only through the proxy. Anything that reaches outside that world is refused before the host
 * is touched: a fixed container name (it could take another app's), host access (privileged,
 * devices, capabilities, the host's network/PID/IPC namespaces, the Docker socket), host bind
 * mounts outside the release folder, volumes or networks of another project (external or
 * named), and host ports (the proxy reaches the preview on a loopback port deploy-kit picks).
 */
export interface ComposeFacts {
  /** Every service named in any of the files, in order of first appearance. */
  readonly services: readonly string[];
  /** One line per thing refused: `<file>: services.web.privileged: ...`. */
  readonly problems: readonly string[];
}

type Node = Record<string, unknown>;
const isMap = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);
const HOST_NAMESPACES = ['network_mode', 'pid', 'ipc', 'userns_mode', 'uts', 'cgroup'] as const;
const FORBIDDEN_KEYS: Readonly<Record<string, string>> = {
  container_name: 'a fixed container name could take one that another app uses; Compose names the preview\'s containers after its project',
  privileged: 'a privileged container has the host',
  cap_add: 'extra capabilities reach the host',
  devices: 'host devices are outside the preview',
  security_opt: 'security options can turn off the container\'s confinement',
  ports: 'host ports are shared with every other app; the proxy reaches the preview on a loopback port deploy-kit picks',
  volumes_from: 'another container\'s volumes can be another app\'s',
  external_links: 'links to containers outside the project reach other apps',
  extends: 'extends can read a compose file from outside the release folder',
};
const SOCKET = /(^|\/)docker\.sock$|^\/var\/run\/docker|^\/run\/docker/;

/** Reads the files as Compose would merge them and lists what a preview may not do. */
export function previewComposeFacts(files: readonly ComposeFileInput[]): ComposeFacts {
  const services: string[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parse(file.content);
    } catch (error) {
      problems.push(`${file.name}: is not valid YAML (${(error as Error).message.split('\n')[0]})`);
      continue;
    }
    if (!isMap(doc)) continue;
    const refuse = (path: string, why: string) => problems.push(`${file.name}: ${path}: ${why}`);
    if (doc.name !== undefined) refuse('name', 'the project name of a preview is derived from the app and the pull request; a compose file may not set it');
    for (const [name, service] of Object.entries(isMap(doc.services) ? doc.services : {})) {
      if (!services.includes(name)) services.push(name);
      if (!isMap(service)) continue;
      const at = `services.${name}`;
      for (const [key, why] of Object.entries(FORBIDDEN_KEYS)) {
        if (service[key] === undefined || service[key] === false || (Array.isArray(service[key]) && service[key].length === 0)) continue;
        refuse(`${at}.${key}`, why);
      }
      for (const key of HOST_NAMESPACES) {
        const value = service[key];
        if (typeof value === 'string' && value !== '' && value !== 'private' && !(key === 'network_mode' && (value === 'bridge' || value === 'none'))) {
          refuse(`${at}.${key}`, `'${value}' shares a namespace with the host or another container`);
        }
      }
      for (const [index, volume] of (Array.isArray(service.volumes) ? service.volumes : []).entries()) {
        const problem = volumeProblem(volume);
        if (problem) refuse(`${at}.volumes[${index}]`, problem);
      }
      for (const path of [service.env_file].flat().filter((p): p is string => typeof p === 'string')) {
        if (!staysInside(path)) refuse(`${at}.env_file`, `'${path}' is outside the release folder`);
      }
      if (isMap(service.build) || typeof service.build === 'string') refuse(`${at}.build`, 'previews run images built by the workflow (the host builds nothing from a pull request)');
    }
    for (const section of ['volumes', 'networks', 'secrets', 'configs'] as const) {
      for (const [name, spec] of Object.entries(isMap(doc[section]) ? doc[section] : {})) {
        if (!isMap(spec)) continue;
        const at = `${section}.${name}`;
        if (spec.external !== undefined && spec.external !== false) refuse(`${at}.external`, `an external ${section.slice(0, -1)} belongs to something outside the preview`);
        if (section !== 'secrets' && section !== 'configs' && typeof spec.name === 'string') {
          refuse(`${at}.name`, `a fixed name ('${spec.name}') can be another project's ${section.slice(0, -1)}; Compose prefixes the preview's own with its project name`);
        }
        if ((section === 'volumes' || section === 'networks') && spec.driver_opts !== undefined) refuse(`${at}.driver_opts`, 'driver options can bind a host folder or device');
        if ((section === 'secrets' || section === 'configs') && typeof spec.file === 'string' && !staysInside(spec.file)) refuse(`${at}.file`, `'${spec.file}' is outside the release folder`);
      }
    }
  }
  return { services, problems };
}

/** A relative path that stays inside the folder it is relative to (the release folder). */
function staysInside(path: string): boolean {
  if (path.startsWith('/') || path.startsWith('~') || path.includes('$')) return false;
  let depth = 0;
  for (const part of path.split('/')) {
    if (part === '..') depth -= 1;
    else if (part !== '.' && part !== '') depth += 1;
    if (depth < 0) return false;
  }
  return true;
}

function volumeProblem(volume: unknown): string | undefined {
  let source: string | undefined;
  let type: string | undefined;
  if (typeof volume === 'string') {
    const parts = volume.split(':');
    if (parts.length === 1) return undefined; // an anonymous volume
    source = parts[0];
    type = source !== undefined && (source.startsWith('.') || source.startsWith('/') || source.startsWith('~') || source.includes('$')) ? 'bind' : 'volume';
  } else if (isMap(volume)) {
    source = typeof volume.source === 'string' ? volume.source : undefined;
    type = typeof volume.type === 'string' ? volume.type : 'volume';
  } else {
    return undefined;
  }
  if (source !== undefined && SOCKET.test(source)) return 'the Docker socket is the whole host';
  if (type === 'bind' && source !== undefined && !staysInside(source)) return `'${source}' is a host folder outside the release folder`;
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') return `a '${type}' mount is not allowed in a preview`;
  return undefined;
}
