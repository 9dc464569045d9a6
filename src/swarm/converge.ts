import { OperationError } from '../errors.js';
import type { StackSection } from './commands.js';
import { serviceKey } from './stack.js';

/**
 * Whether a stack's services have converged on their current spec. Pure evaluation of
 * `inspectStack` output (its sections):
 *
 * - a service whose update Swarm runs (`UpdateStatus.State`) is waited for while `updating`;
 *   `completed` passes; `rollback_started`, `rollback_completed`, `paused` and
 *   `rollback_paused` fail with Swarm's own message: once Swarm has judged the update failed
 *   and begun to roll it back, the release has failed, and the deploy puts the previous
 *   release back itself instead of waiting on Swarm's rollback (which the tests here saw
 *   still running at a 1-minute wait-timeout);
 * - after `docker service rollback` (goal `rollback`), Swarm rolling back is waited for, and
 *   its finished rollback passes;
 * - a service with no update status (first deploy, or a spec that did not change, since Swarm
 *   clears the status on every service update) passes when as many tasks as it wants are
 *   running the service's current image. Swarm reports a task `running` only once the image's
 *   HEALTHCHECK said healthy, so that covers health too;
 * - a service whose tasks of the current image failed `FAILED_TASKS` times fails early.
 */
export interface StackService {
  /** Full service name: `<stack>_<service>`. */
  readonly name: string;
  /** The compose service name. */
  readonly service: string;
  /** The image the spec names, as Swarm resolved it (`repo:tag@sha256:...`). */
  readonly image: string;
  readonly update: { readonly state: string; readonly message: string } | undefined;
  readonly desired: number;
  /** Tasks running the spec's image. */
  readonly running: number;
  /** Tasks of the spec's image that failed or were rejected (in Swarm's retained history). */
  readonly failed: number;
  /** What the newest task that is not running says (`Pending: no suitable node ...`), '' when none. */
  readonly waitingFor: string;
}

export type StackVerdict =
  | { readonly kind: 'ready'; readonly services: readonly StackService[] }
  | { readonly kind: 'waiting'; readonly reason: string; readonly services: readonly StackService[] }
  | { readonly kind: 'failed'; readonly reason: string; readonly services: readonly StackService[] };

export const FAILED_TASKS = 3;

interface ServiceInspect {
  Spec: { Name: string; TaskTemplate?: { ContainerSpec?: { Image?: string } } };
  UpdateStatus?: { State?: string; Message?: string } | null;
}

interface ServiceLine {
  Name: string;
  Replicas: string;
}

interface TaskLine {
  Name: string;
  Image: string;
  DesiredState: string;
  CurrentState: string;
  Error: string;
}

function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as T);
}

/** `shop_web.1` or `shop_web.<node id>` -> `shop_web`. */
const taskService = (taskName: string): string => taskName.replace(/\.[^.]+$/, '');

/** The stack's services in the sections of `inspectStack`'s output. */
export function parseStack(stack: string, parts: ReadonlyMap<StackSection, string>): StackService[] {
  let inspected: ServiceInspect[];
  try {
    inspected = JSON.parse((parts.get('services') ?? '').trim() || '[]') as ServiceInspect[];
  } catch {
    // Not quoted: the output holds the services' environment, secrets included (JSON-escaped, so the runner's masks would miss them).
    throw new OperationError(`Could not read 'docker service inspect' output for stack ${stack}: it is not JSON.`);
  }
  const replicas = new Map(jsonLines<ServiceLine>(parts.get('replicas') ?? '').map((line) => [line.Name, line.Replicas]));
  const tasks = jsonLines<TaskLine>(parts.get('tasks') ?? '');
  return inspected
    .map((entry): StackService => {
      const name = entry.Spec.Name;
      const image = entry.Spec.TaskTemplate?.ContainerSpec?.Image ?? '';
      const mine = tasks.filter((task) => taskService(task.Name) === name && task.Image === image);
      const desired = Number(/^\d+\/(\d+)/.exec(replicas.get(name) ?? '')?.[1] ?? 0);
      const running = mine.filter((task) => task.DesiredState === 'Running' && task.CurrentState.startsWith('Running')).length;
      const failed = mine.filter((task) => /^(Failed|Rejected)/.test(task.CurrentState)).length;
      const pending = mine.find((task) => task.DesiredState === 'Running' && !task.CurrentState.startsWith('Running'));
      const lastError = mine.find((task) => task.Error !== '');
      const waitingFor = pending ? `${pending.CurrentState.replace(/ \d+ \w+ ago$| (about )?(an?|less than a) \w+ ago$/, '')}${pending.Error ? `: ${pending.Error}` : ''}` : lastError ? lastError.Error : '';
      const status = entry.UpdateStatus?.State;
      return {
        name,
        service: serviceKey(stack, name),
        image,
        update: status ? { state: status, message: entry.UpdateStatus?.Message ?? '' } : undefined,
        desired,
        running,
        failed,
        waitingFor: waitingFor.replace(/^"|"$/g, ''),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

const FAILED_WORDS: Record<string, string> = {
  rollback_started: 'Swarm began rolling the update back',
  rollback_completed: 'Swarm rolled the update back',
  paused: 'Swarm paused the update',
  rollback_paused: 'Swarm paused rolling the update back',
};
/** The update states that end the wait as failed, per goal. */
const FAILED_STATES: Record<'update' | 'rollback', ReadonlySet<string>> = {
  update: new Set(Object.keys(FAILED_WORDS)),
  rollback: new Set(['paused', 'rollback_paused']),
};
const COMPLETED = new Set(['completed']);
const ROLLED_BACK = new Set(['completed', 'rollback_completed']);

/**
 * `goal: 'rollback'` judges the stack after `docker service rollback`, where Swarm finishing
 * its rollback (`rollback_completed`) is the success, not the failure.
 */
export function judgeStack(services: readonly StackService[], expected: readonly string[] = [], goal: 'update' | 'rollback' = 'update'): StackVerdict {
  const done = goal === 'rollback' ? ROLLED_BACK : COMPLETED;
  const missing = expected.filter((service) => !services.some((s) => s.service === service));
  if (services.length === 0 || missing.length > 0) return { kind: 'waiting', reason: `no service ${missing[0] ?? ''} yet`.replace('  ', ' '), services };
  for (const s of services) {
    if (s.update && FAILED_STATES[goal].has(s.update.state)) {
      return { kind: 'failed', reason: `service ${s.name}: ${FAILED_WORDS[s.update.state]}${s.update.message ? ` (${s.update.message})` : ''}`, services };
    }
    if (s.failed >= FAILED_TASKS && s.running < s.desired) {
      return { kind: 'failed', reason: `service ${s.name}: ${s.failed} tasks of ${s.image} failed${s.waitingFor ? `, last: ${s.waitingFor}` : ''}`, services };
    }
  }
  for (const s of services) {
    if (s.update && !done.has(s.update.state)) return { kind: 'waiting', reason: `service ${s.name}: ${s.update.state.replace('_', ' ')}${s.update.message ? ` (${s.update.message})` : ''}`, services };
    if (s.running < s.desired) {
      return { kind: 'waiting', reason: `service ${s.name}: ${s.running}/${s.desired} tasks running${s.waitingFor ? `, ${s.waitingFor}` : ''}`, services };
    }
  }
  return { kind: 'ready', services };
}

/** service -> the image Swarm resolved for it (`repo:tag@sha256:...`): what a rollback re-deploys. */
export function stackImages(services: readonly StackService[]): Record<string, string> {
  return Object.fromEntries(services.map((s) => [s.service, s.image]));
}
