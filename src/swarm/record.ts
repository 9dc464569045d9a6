import type { ReleaseRecord } from '../release/record.js';
import { AppLayout } from '../release/layout.js';
import { StackFiles } from './commands.js';
import { ENV_SCRIPT, SWARM_FILE } from './stack.js';

/** A swarm release's release.json: the compose target's fields, plus which target and stack. */
export interface SwarmRecord extends ReleaseRecord {
  readonly target: 'swarm';
  /** The stack name on the swarm (the app name). */
  readonly stack: string;
}

export function isSwarmRecord(record: ReleaseRecord): record is SwarmRecord {
  return (record as { target?: unknown }).target === 'swarm';
}

/**
 * The files a swarm release is deployed with: the user's compose files, deploy-kit's
 * update_config defaults, and (once its services converged) the images pinned by digest.
 */
export function releaseStack(layout: AppLayout, stack: string, id: string, composeFiles: readonly string[], pinned: boolean): StackFiles {
  const release = layout.release(id);
  return {
    stack,
    directory: release.dir,
    files: [...composeFiles.map((name) => release.file(name)), release.file(SWARM_FILE), ...(pinned ? [release.imagesFile] : [])],
    envScript: release.file(ENV_SCRIPT),
  };
}
