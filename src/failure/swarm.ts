import { quote } from '../shell/quote.js';
import { SectionedLine, Sections } from '../shell/sections.js';
import { logLines } from './containers.js';
import type { Suspect } from './suspect.js';

/**
 * What a failed release's Swarm services were doing: each service's tasks as
 * `docker service ps --no-trunc` lists them (their errors: `task: non-zero exit (1)`,
 * `No such image`) and the last lines of `docker service logs`, in one round trip.
 */

export type ServiceSection = `tasks-${string}` | `logs-${string}`;

/** The scheduler's word for a task it could not place on any node. */
const PLACEMENT_ERROR = /^no suitable node\b/;

/** Task errors shown per service (Swarm keeps a few tasks of history per slot). */
const TASKS_SHOWN = 5;

export function describeServices(stack: string, logLines: number): SectionedLine<ServiceSection> {
  const sections = new Sections<ServiceSection>();
  const services = `$(docker service ls --filter ${quote(`label=com.docker.stack.namespace=${stack}`)} --format '{{.Name}}')`;
  const logs = logLines > 0 ? `; ${sections.startEach('logs', 'svc').text}; docker service logs --timestamps --no-task-ids --tail ${logLines} "$svc" 2>&1` : '';
  const text = `for svc in ${services}; do ${sections.startEach('tasks', 'svc').text}; docker service ps --no-trunc --format '{{json .}}' "$svc" 2>&1${logs}; done; true`;
  return { text, sections };
}

interface TaskLine {
  Name: string;
  DesiredState: string;
  CurrentState: string;
  Error: string;
}

/** Each service of describeServices' output as a suspect, those with failed tasks first. */
export function parseServiceSuspects(stdout: string, sections: Sections<ServiceSection>, stack: string): Suspect[] {
  const read = sections.read(stdout);
  const suspects: Suspect[] = [];
  for (const [key, text] of read) {
    if (!key.startsWith('tasks-')) continue;
    const name = key.slice('tasks-'.length);
    const tasks = text
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as TaskLine)
      // With --no-trunc, `docker service ps` quotes the error: `"task: non-zero exit (1)"`.
      .map((task) => ({ ...task, Error: task.Error.replace(/^"(.*)"$/, '$1') }));
    const failed = tasks.filter((t) => t.Error !== '' || /^(Failed|Rejected)/.test(t.CurrentState));
    // A task the scheduler could not place (`no suitable node (host-mode port already in use
    // ...)`: a start-first update whose old task still holds the port) is a consequence; the
    // cause is a task that ran and failed, when there is one. Only placement errors: they are it.
    const ran = failed.filter((t) => !PLACEMENT_ERROR.test(t.Error));
    const causes = ran.length > 0 ? ran : failed;
    const running = tasks.filter((t) => t.DesiredState === 'Running' && t.CurrentState.startsWith('Running'));
    const wanted = tasks.filter((t) => t.DesiredState === 'Running');
    const last = causes[0];
    suspects.push({
      name,
      service: name.startsWith(`${stack}_`) ? name.slice(stack.length + 1) : name,
      unhealthy: failed.length > 0 || running.length < wanted.length,
      status: last
        ? `has ${causes.length} failed task${causes.length === 1 ? '' : 's'}, the last: ${last.Error || last.CurrentState}`
        : running.length < wanted.length
          ? `runs ${running.length} of ${wanted.length} tasks`
          : 'is running',
      facts: [
        ['tasks running', `${running.length} of ${wanted.length}`],
        ['failed tasks', String(causes.length)],
      ],
      clueFromChecks: false,
      // `docker service ps` lists the newest task of each slot first.
      checks: failed
        .slice(0, TASKS_SHOWN)
        .reverse()
        .map((t) => `${t.Name} ${t.CurrentState}: ${t.Error || '(no error given)'}`),
      logs: logLines(read.get(`logs-${name}`)),
    });
  }
  return suspects.sort((a, b) => Number(b.unhealthy) - Number(a.unhealthy) || a.name.localeCompare(b.name));
}
