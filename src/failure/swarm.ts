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
    const running = tasks.filter((t) => t.DesiredState === 'Running' && t.CurrentState.startsWith('Running'));
    const wanted = tasks.filter((t) => t.DesiredState === 'Running');
    const last = failed[0];
    suspects.push({
      name,
      service: name.startsWith(`${stack}_`) ? name.slice(stack.length + 1) : name,
      unhealthy: failed.length > 0 || running.length < wanted.length,
      status: last
        ? `has ${failed.length} failed task${failed.length === 1 ? '' : 's'}, the last: ${last.Error || last.CurrentState}`
        : running.length < wanted.length
          ? `runs ${running.length} of ${wanted.length} tasks`
          : 'is running',
      facts: [
        ['tasks running', `${running.length} of ${wanted.length}`],
        ['failed tasks', String(failed.length)],
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
