import { ComposeProject, compose, composeEnvironment } from '../compose/cli.js';
import { Command, ShellLine, allOf, constant, inDirectory, quote, shellLine, toCompletion, userScript, withEnv } from '../shell/quote.js';
import { SectionedLine, Sections } from '../shell/sections.js';
import { AppLayout } from './layout.js';
import { LedgerEvent } from './ledger.js';

/**
 * Builders for the commands that change an app's releases on the host. They return
 * commands; `RemoteHost` runs them. Every value reaches the shell through `quote`.
 */

export const createReleaseDir = (layout: AppLayout, id: string): ShellLine =>
  allOf(['mkdir', '-p', layout.releases], ['mkdir', '-m', '0750', layout.release(id).dir]);

/** Appends one event to the ledger (a single small write, atomic with O_APPEND). */
export const appendLedger = (layout: AppLayout, event: LedgerEvent): ShellLine =>
  constant(`printf '%s\\n' ${quote(JSON.stringify(event))} >> ${quote(layout.ledger)}`);

/** Points `current` at a release: a new symlink renamed over the old one, so readers never see none. */
export function switchCurrent(layout: AppLayout, id: string): ShellLine {
  const temp = `${layout.current}.next`;
  return allOf(['ln', '-sfn', `releases/${id}`, temp], ['mv', '-T', temp, layout.current]);
}

/** Registry credentials live in a private folder of the release only while pulling. */
export const dockerConfigDir = (layout: AppLayout, id: string): string => `${layout.release(id).dir}/.docker`;

export function prepareDockerConfig(dir: string): ShellLine {
  return constant(
    `mkdir -m 0700 ${quote(dir)} && if [ -d "$HOME/.docker/cli-plugins" ]; then ln -s "$HOME/.docker/cli-plugins" ${quote(`${dir}/cli-plugins`)}; fi`,
  );
}

/** `docker login` reading the password from standard input: it never appears in argv. */
export const dockerLogin = (configDir: string, registry: string, username: string): ShellLine =>
  withEnv({ DOCKER_CONFIG: configDir }, ['docker', 'login', '--username', username, '--password-stdin', '--', registry]);

export const removeDockerConfig = (dir: string): Command => ['rm', '-rf', dir];

export function pullImages(project: ComposeProject, configDir: string | undefined): ShellLine {
  const pull = compose(project, 'pull', '--quiet');
  return configDir ? withEnv({ DOCKER_CONFIG: configDir }, pull) : shellLine(pull);
}

export const renderConfig = (project: ComposeProject): Command => compose(project, 'config');

/**
 * Pulls the project's images while Compose renders its config (neither needs the other; each
 * is a Compose start-up of its own), in one round trip: stdout is the `config` section, the
 * rendered config; the pull's output goes to stderr. Fails when either fails.
 */
export function pullWhileRendering(project: ComposeProject, configDir: string | undefined): SectionedLine<'config'> {
  const sections = new Sections<'config'>();
  return {
    text:
      `{ ${pullImages(project, configDir).text}; } >&2 & pulling=$!; ${sections.start('config').text}; ${shellLine(renderConfig(project)).text}; rendered=$?; ` +
      `wait $pulling && exit $rendered`,
    sections,
  };
}

export const inspectImages = (refs: readonly string[]): Command => ['docker', 'image', 'inspect', '--', ...refs];

/** `up --detach --remove-orphans`, run to its end even if the connection drops (see toCompletion). */
export const startContainers = (project: ComposeProject): ShellLine => toCompletion(compose(project, 'up', '--detach', '--remove-orphans'));

export const stopContainers = (project: ComposeProject): ShellLine => toCompletion(compose(project, 'down', '--remove-orphans'));

/** Runs a user's hook in the release folder, with the release's compose project as the default. */
export function runHook(project: ComposeProject, script: string, release: { id: string; version: string }): ShellLine {
  const env = { ...composeEnvironment(project), RELEASE_ID: release.id, VERSION: release.version, RELEASE_DIR: project.directory };
  return inDirectory(project.directory, withEnv(env, userScript(script)));
}

export function removeReleases(layout: AppLayout, ids: readonly string[]): Command {
  return ['rm', '-rf', '--', ...ids.map((id) => layout.release(id).dir)];
}

/** Removes images no kept release uses; images still used by a container are left alone. */
export function removeImages(imageIds: readonly string[]): ShellLine {
  return constant(`for image in ${imageIds.map(quote).join(' ')}; do docker image rm --force "$image" >/dev/null 2>&1 || true; done`);
}

/** Removes `current`: the app has no active release (a first release taken back). */
export const clearCurrent = (layout: AppLayout): Command => ['rm', '-f', '--', layout.current];
