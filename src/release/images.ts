import { parse, stringify } from 'yaml';
import { OperationError } from '../errors.js';

/**
 * Pinning: after a pull, each service's image is resolved to the digest the host now has,
 * and a compose override with those digests becomes part of the release. The release then
 * starts, and later restarts on rollback, from exactly those images, wherever the tags moved.
 */
export interface PinnedImage {
  /** `repo@sha256:...`, or the image id for an image that never came from a registry. */
  readonly ref: string;
  readonly id: string;
}

/** service -> image reference, from `docker compose config` output. */
export function serviceImages(composeConfigYaml: string): Record<string, string> {
  const config = parse(composeConfigYaml) as { services?: Record<string, { image?: string; build?: unknown }> } | null;
  const services = config?.services ?? {};
  const images: Record<string, string> = {};
  for (const [name, service] of Object.entries(services)) {
    if (!service?.image) {
      throw new OperationError(`Service '${name}' has no 'image:'. deploy-kit deploys images from a registry; build and push them first, then name them in the compose file.`);
    }
    images[name] = service.image;
  }
  return images;
}

interface ImageInspect {
  Id: string;
  RepoDigests?: string[];
}

function repository(ref: string): string {
  const withoutDigest = ref.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

/** Matches `docker image inspect` output (in argument order) to the references asked for. */
export function pinImages(refs: readonly string[], inspectJson: string): PinnedImage[] {
  const entries = JSON.parse(inspectJson) as ImageInspect[];
  if (entries.length !== refs.length) throw new OperationError(`Expected ${refs.length} images on the host, found ${entries.length}.`);
  return refs.map((ref, index) => {
    const entry = entries[index]!;
    const repo = repository(ref);
    const digest = entry.RepoDigests?.find((d) => repository(d) === repo) ?? entry.RepoDigests?.[0];
    return { ref: ref.includes('@sha256:') ? ref : (digest ?? entry.Id), id: entry.Id };
  });
}

/** The compose override that pins every service to its image. */
export function imagesOverride(pinned: Readonly<Record<string, string>>, composeVersion?: string): string {
  const services = Object.fromEntries(Object.entries(pinned).map(([service, ref]) => [service, { image: ref }]));
  // Compose v1 refuses to merge files of different `version:`s, so the override copies the user's.
  const document = composeVersion ? { version: composeVersion, services } : { services };
  return `# Written by deploy-kit: the images this release runs, pinned by digest.\n${stringify(document)}`;
}
