import { OperationError } from '../errors.js';
import type { Reporter } from '../report.js';
import { Command, ShellLine, allOf, constant, quote, shellLine } from '../shell/quote.js';
import { inSections } from '../shell/sections.js';
import type { RemoteHost } from '../ssh/connection.js';
import { PREVIEW_LABEL } from './override.js';
import { PreviewRecord, parseRecord } from './record.js';
import { CaddySettings, reloadCaddy, routeFile, routeText } from './routes.js';

/**
 * A host's previews, as commands over one SSH connection: what is there, the ports in use,
 * a preview's route in the proxy, and removing everything of a preview.
 *
 *   <previews-path>/<name>/            the preview's deploy path (releases, ledger, lock)
 *   <previews-path>/<name>/preview.json   its record (record.ts)
 *   <previews-path>/.lock/             held while previews are opened, closed or cleaned up
 */
export class PreviewHost {
  constructor(
    readonly host: RemoteHost,
    /** The previews folder, resolved against the host's home. */
    readonly root: string,
    readonly caddy: CaddySettings,
    private readonly reporter: Reporter,
  ) {}

  folder(name: string): string {
    return `${this.root}/${name}`;
  }

  recordFile(name: string): string {
    return `${this.folder(name)}/preview.json`;
  }

  /** Every preview's record, the loopback ports in use, and what runs as compose project `name` (its containers' preview labels). */
  async survey(name: string): Promise<{ previews: PreviewRecord[]; listening: Set<number>; projectLabels: string[] }> {
    const line = inSections([
      ['records', constant(`for f in ${quote(this.root)}/*/preview.json; do [ -f "$f" ] && cat "$f" && echo; done`)],
      ['ports', constant("ss -Hltn 2>/dev/null | awk '{print $4}'")],
      ['project', ['docker', 'ps', '--all', '--filter', `label=com.docker.compose.project=${name}`, '--format', `{{.ID}} {{.Label ${JSON.stringify(PREVIEW_LABEL)}}}`]],
    ] as const);
    const sections = line.sections.read((await this.host.run(line)).stdout);
    const previews = (sections.get('records') ?? '')
      .split('\n')
      .map((text) => (text.trim() === '' ? undefined : parseRecord(text)))
      .filter((p): p is PreviewRecord => p !== undefined);
    const listening = new Set(
      (sections.get('ports') ?? '')
        .split('\n')
        .map((address) => Number(/:(\d+)$/.exec(address.trim())?.[1]))
        .filter((port) => Number.isInteger(port) && port > 0),
    );
    // One line per container, `<id> <preview label>`: the label is empty for a container that is not a preview's.
    const projectLabels = (sections.get('project') ?? '')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.trim().split(' ').slice(1).join(' '));
    return { previews, listening, projectLabels };
  }

  async writeRecord(record: PreviewRecord): Promise<void> {
    await this.host.run(['mkdir', '-p', this.folder(record.name)]);
    await this.host.writeFile(this.recordFile(record.name), `${JSON.stringify(record)}\n`, 0o644);
  }

  /** Puts the preview's route in place (a finished file renamed over the old one) and reloads Caddy; on failure the old route is put back. */
  async addRoute(record: PreviewRecord, host: string, scheme: 'https' | 'http'): Promise<void> {
    const file = routeFile(this.caddy, record.name);
    await this.host.run(['mkdir', '-p', this.caddy.routes]);
    await this.host.writeFile(`${file}.new`, routeText({ name: record.name, pr: record.pr, host, scheme, port: record.port }), 0o644);
    await this.swapRoute(
      allOf(constant(`{ [ ! -f ${quote(file)} ] || cp -p ${quote(file)} ${quote(`${file}.old`)}; }`), ['mv', '-f', `${file}.new`, file]),
      constant(`if [ -f ${quote(`${file}.old`)} ]; then mv -f ${quote(`${file}.old`)} ${quote(file)}; else rm -f ${quote(file)}; fi`),
      `adding the route of ${record.name}`,
    );
    await this.host.run(['rm', '-f', `${file}.old`]);
  }

  /** Removes the preview's route and reloads Caddy (nothing to do when it has none). */
  async removeRoute(name: string): Promise<void> {
    const file = routeFile(this.caddy, name);
    const exists = (await this.host.run(constant(`[ -f ${quote(file)} ] && echo yes || true`))).stdout.trim() === 'yes';
    if (!exists) return;
    await this.swapRoute(['mv', '-f', file, `${file}.old`], ['mv', '-f', `${file}.old`, file], `removing the route of ${name}`);
    await this.host.run(['rm', '-f', `${file}.old`]);
  }

  private async swapRoute(change: Command | ShellLine, undo: Command | ShellLine, what: string): Promise<void> {
    await this.host.run(change);
    const reload = await this.host.run(reloadCaddy(this.caddy), { allowFailure: true });
    if (reload.code === 0) return;
    await this.host.run(undo);
    const back = await this.host.run(reloadCaddy(this.caddy), { allowFailure: true });
    const said = lastLine(reload.stderr || reload.stdout);
    throw new OperationError(
      `Caddy did not load its config after ${what} (${shellLine(reloadCaddy(this.caddy)).text}: ${said}); the route file was put back as it was` +
        `${back.code === 0 ? ' and Caddy reloaded' : ''}. Check that ${this.caddy.config} imports ${this.caddy.routes}/*.caddy and that Caddy's admin endpoint answers.`,
    );
  }

  /**
   * Removes every container, volume and network of compose project `name` (found by Compose's
   * own labels, so containers of any release and of either Compose go), then its folder.
   */
  async removeEverything(name: string): Promise<void> {
    const label = `label=com.docker.compose.project=${name}`;
    const script = [
      `ids=$(docker ps --all --quiet --filter ${quote(label)})`,
      '[ -z "$ids" ] || docker rm --force --volumes $ids >/dev/null',
      `vols=$(docker volume ls --quiet --filter ${quote(label)})`,
      '[ -z "$vols" ] || docker volume rm --force $vols >/dev/null',
      `nets=$(docker network ls --quiet --filter ${quote(label)})`,
      '[ -z "$nets" ] || docker network rm $nets >/dev/null',
      `rm -rf ${quote(this.folder(name))}`,
    ].join(' && ');
    await this.host.run(constant(script));
    this.reporter.info(`removed the containers, volumes and networks of ${name}, and ${this.folder(name)}`);
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  return (lines.at(-1) ?? 'no output').slice(0, 300);
}
