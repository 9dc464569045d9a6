import { Command } from '../shell/quote.js';

/** Docker Compose v2 (`docker compose`, a CLI plugin) or v1 (`docker-compose`, Python). */
export type ComposeVariant = 'v2' | 'v1';

/** A compose project as deploy-kit runs it: one release folder, its files and its .env. */
export interface ComposeProject {
  readonly variant: ComposeVariant;
  readonly name: string;
  readonly directory: string;
  /** Absolute paths on the host, applied in order. */
  readonly files: readonly string[];
  readonly envFile: string;
}

/** Builds `docker compose -p NAME --project-directory DIR -f A -f B --env-file E <args>`. */
export function compose(project: ComposeProject, ...args: string[]): Command {
  const program = project.variant === 'v2' ? ['docker', 'compose'] : ['docker-compose'];
  return [
    ...program,
    '--project-name',
    project.name,
    '--project-directory',
    project.directory,
    ...project.files.flatMap((file) => ['-f', file]),
    '--env-file',
    project.envFile,
    ...args,
  ];
}

/** Environment a user's hook gets so that a bare `docker compose ...` targets the release. */
export function composeEnvironment(project: ComposeProject): Record<string, string> {
  return { COMPOSE_PROJECT_NAME: project.name, COMPOSE_FILE: project.files.join(':') };
}
