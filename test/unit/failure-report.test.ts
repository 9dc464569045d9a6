import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { describeContainers, inTimeOrder, parseContainerSuspects } from '../../src/failure/containers.js';
import { FailureReport, failedResponses, failureLogLines, failureReason, failureSummary } from '../../src/failure/report.js';
import { Suspect, suspectsWorthShowing } from '../../src/failure/suspect.js';
import { describeServices, parseServiceSuspects } from '../../src/failure/swarm.js';
import type { GateResult } from '../../src/health/types.js';
import { MaskList } from '../../src/inputs/secrets.js';
import { quote } from '../../src/shell/quote.js';
import { buildMessage } from '../../src/notify/message.js';

/**
 * Runs a command line built for the host with `sh`, where `docker` is a shell function that
 * answers from `answers` (its arguments joined by spaces -> what it prints): the line's own
 * quoting, loop and section markers, without a Docker engine.
 */
function runWithDocker(line: string, answers: Record<string, string>): string {
  const cases = Object.entries(answers)
    .map(([args, out]) => `    ${quote(args)}) printf '%s' ${quote(out)};;`)
    .join('\n');
  const script = `docker() {\n  case "$*" in\n${cases}\n    *) echo "unexpected: docker $*" >&2; return 1;;\n  esac\n}\n${line}`;
  return execFileSync('sh', ['-c', script], { encoding: 'utf8' });
}

const inspect = (over: Record<string, unknown> = {}) => ({
  Id: 'aaa111',
  Name: '/shop-web-1',
  Config: { Labels: { 'com.docker.compose.service': 'web' } },
  State: { Status: 'exited', ExitCode: 1, OOMKilled: false, Error: '' },
  RestartCount: 0,
  HostConfig: { Memory: 0 },
  ...over,
});

const suspect = (over: Partial<Suspect> = {}): Suspect => ({
  name: 'shop-web-1',
  service: 'web',
  unhealthy: true,
  status: 'exited with code 1',
  facts: [['exit code', '1']],
  clueFromChecks: false,
  checks: [],
  logs: ['2026-12-06T05:00:00.1Z starting', '2026-12-06T05:00:00.2Z Error: connect ECONNREFUSED 10.0.0.5:5432', ''],
  ...over,
});

const report = (over: Partial<FailureReport> = {}): FailureReport => ({ where: 'Start containers', suspects: [], responses: [], ...over });

describe('reading the containers of a failed release', () => {
  test("one command: the project's containers inspected, then each one's last log lines, split by a nonce", () => {
    const line = describeContainers({ project: 'shop' }, 50);
    const stdout = runWithDocker(line.text, {
      'ps --all --quiet --no-trunc --filter label=com.docker.compose.project=shop': 'aaa111\nbbb222\n',
      'inspect aaa111 bbb222': JSON.stringify([
        inspect(),
        inspect({ Id: 'bbb222', Name: '/shop-worker-1', Config: { Labels: { 'com.docker.compose.service': 'worker' } }, State: { Status: 'running', ExitCode: 0 } }),
      ]),
      'logs --timestamps --tail 50 aaa111': '2026-12-06T05:00:00.1Z starting\n2026-12-06T05:00:00.2Z Error: no database\n',
      // A container's log may hold anything, a marker-like line included.
      'logs --timestamps --tail 50 bbb222': '2026-12-06T05:00:00.3Z @@deploy-kit@@logs-aaa111\n',
    });
    const [web, worker] = parseContainerSuspects(stdout, line.sections);
    expect(web).toMatchObject({ name: 'shop-web-1', service: 'web', unhealthy: true, status: 'exited with code 1', logs: ['2026-12-06T05:00:00.1Z starting', '2026-12-06T05:00:00.2Z Error: no database'] });
    expect(worker).toMatchObject({ name: 'shop-worker-1', unhealthy: false, status: 'is running', logs: ['2026-12-06T05:00:00.3Z @@deploy-kit@@logs-aaa111'] });
  });

  test('named containers only (a rolling deploy): their ids by name; with 0 log lines, no logs are read', () => {
    const line = describeContainers({ project: 'shop', names: ['shop-web-3', "it's"] }, 0);
    expect(line.text).toContain("docker inspect --format '{{.Id}}' shop-web-3 'it'\\''s'");
    expect(line.text).not.toContain('docker logs');
    const stdout = runWithDocker(line.text, { "inspect --format {{.Id}} shop-web-3 it's": 'aaa111\n', 'inspect aaa111': JSON.stringify([inspect()]) });
    expect(parseContainerSuspects(stdout, line.sections)).toEqual([expect.objectContaining({ name: 'shop-web-1', logs: [] })]);
  });

  test("Docker's facts in words: OOM kill with the limit, restarts, an unhealthy check with its outputs", () => {
    const line = describeContainers({ project: 'shop' }, 0);
    const parse = (entry: Record<string, unknown>) =>
      parseContainerSuspects(runWithDocker(line.text, { 'ps --all --quiet --no-trunc --filter label=com.docker.compose.project=shop': 'aaa111', 'inspect aaa111': JSON.stringify([entry]) }), line.sections)[0]!;
    expect(parse(inspect({ State: { Status: 'exited', ExitCode: 137, OOMKilled: true }, HostConfig: { Memory: 16 * 1024 * 1024 } }))).toMatchObject({
      status: 'was killed for running out of memory (memory limit 16 MiB)',
      facts: expect.arrayContaining([['OOM-killed', 'yes'], ['exit code', '137']]),
    });
    expect(parse(inspect({ State: { Status: 'restarting', ExitCode: 2 }, RestartCount: 4 })).status).toBe('keeps restarting (exit code 2, 4 restarts)');
    const log = [1, 2, 3, 4].map((n) => ({ Start: `2026-12-06T05:00:0${n}.123456Z`, ExitCode: 1, Output: `check ${n} failed\n` }));
    expect(parse(inspect({ State: { Status: 'running', ExitCode: 0, Health: { Status: 'unhealthy', Log: log } } }))).toMatchObject({
      status: 'is unhealthy',
      unhealthy: true,
      clueFromChecks: true,
      checks: ['2026-12-06T05:00:02Z exit 1: check 2 failed', '2026-12-06T05:00:03Z exit 1: check 3 failed', '2026-12-06T05:00:04Z exit 1: check 4 failed'],
    });
  });

  test("log lines in the order written: stdout and stderr lines arrive apart, their timestamps put them back", () => {
    const lines = ['2026-12-06T05:55:41.7888Z Error: no database', '2026-12-06T05:55:41.78877908Z starting', '2026-12-06T05:55:42Z retrying'];
    expect(inTimeOrder(lines)).toEqual([lines[1], lines[0], lines[2]]);
    expect(inTimeOrder(['b', 'a'])).toEqual(['b', 'a']);
  });

  test('shown: the containers Docker does not call healthy, or all of them when none is (a gate failed on running containers)', () => {
    const sick = suspect();
    const fine = suspect({ name: 'shop-db-1', unhealthy: false });
    expect(suspectsWorthShowing([fine, sick])).toEqual([sick]);
    expect(suspectsWorthShowing([fine])).toEqual([fine]);
  });
});

describe("a Swarm stack's services", () => {
  test('each service: its failed tasks with their errors, its last log lines; the stack prefix dropped from the service', () => {
    const line = describeServices('shop', 20);
    const task = (name: string, desired: string, current: string, error: string) => JSON.stringify({ Name: name, DesiredState: desired, CurrentState: current, Error: error });
    const stdout = runWithDocker(line.text, {
      'service ls --filter label=com.docker.stack.namespace=shop --format {{.Name}}': 'shop_web\nshop_db\n',
      'service ps --no-trunc --format {{json .}} shop_web': [task('shop_web.1', 'Shutdown', 'Failed 2 seconds ago', '"task: non-zero exit (3)"'), task('shop_web.1', 'Shutdown', 'Failed 9 seconds ago', 'task: non-zero exit (3)'), task('shop_web.1', 'Running', 'Running 1 minute ago', '')].join('\n'),
      'service logs --timestamps --no-task-ids --tail 20 shop_web': '2026-12-06T05:00:00.1Z shop_web.1@node1    | starting\n',
      'service ps --no-trunc --format {{json .}} shop_db': task('shop_db.1', 'Running', 'Running 5 minutes ago', ''),
      'service logs --timestamps --no-task-ids --tail 20 shop_db': '',
    });
    const [web, db] = parseServiceSuspects(stdout, line.sections, 'shop');
    expect(web).toMatchObject({ name: 'shop_web', service: 'web', unhealthy: true, status: 'has 2 failed tasks, the last: task: non-zero exit (3)' });
    expect(web!.checks).toEqual(['shop_web.1 Failed 9 seconds ago: task: non-zero exit (3)', 'shop_web.1 Failed 2 seconds ago: task: non-zero exit (3)']);
    expect(failureReason(report({ suspects: [web!] }), '')).toBe('web has 2 failed tasks, the last: task: non-zero exit (3): starting');
    expect(db).toMatchObject({ service: 'db', unhealthy: false, status: 'is running' });
  });

  test("a task the scheduler could not place is not the cause when a task ran and failed; alone, it is", () => {
    const line = describeServices('shop', 0);
    const task = (current: string, error: string) => JSON.stringify({ Name: 'shop_web.1', DesiredState: 'Shutdown', CurrentState: current, Error: error });
    const placement = 'no suitable node (host-mode port already in use on 1 node)';
    const suspectOf = (tasks: string[]) => {
      const stdout = runWithDocker(line.text, {
        'service ls --filter label=com.docker.stack.namespace=shop --format {{.Name}}': 'shop_web\n',
        'service ps --no-trunc --format {{json .}} shop_web': tasks.join('\n'),
      });
      return parseServiceSuspects(stdout, line.sections, 'shop')[0]!;
    };
    const both = suspectOf([task('Rejected 1 second ago', placement), task('Failed 3 seconds ago', 'task: non-zero exit (3)'), task('Failed 8 seconds ago', 'task: non-zero exit (3)')]);
    expect(both.status).toBe('has 2 failed tasks, the last: task: non-zero exit (3)');
    // The whole story stays in the task list, the rejection included.
    expect(both.checks).toEqual(['shop_web.1 Failed 8 seconds ago: task: non-zero exit (3)', 'shop_web.1 Failed 3 seconds ago: task: non-zero exit (3)', `shop_web.1 Rejected 1 second ago: ${placement}`]);
    expect(suspectOf([task('Rejected 1 second ago', placement)]).status).toBe(`has 1 failed task, the last: ${placement}`);
  });
});

describe('the reason in one line', () => {
  test("a failed command comes first: the phase, the command as written, how it ended, its last error line", () => {
    const command = { command: 'npm run migrate', exit: 'exit 3', stderr: ['migrating', 'ERROR: relation users does not exist', ''] };
    expect(failureReason(report({ where: 'Pre-deploy', command, suspects: [suspect()] }), 'x')).toBe("Pre-deploy: 'npm run migrate' failed (exit 3): ERROR: relation users does not exist");
    // A long command is cut so that its error still fits.
    const long = { ...command, command: `docker compose ${'-f /srv/shop/releases/7/x.yml '.repeat(10)}pull --quiet` };
    expect(failureReason(report({ where: 'Pull images', command: long }), 'x')).toBe(`Pull images: '${long.command.slice(0, 99)}…' failed (exit 3): ERROR: relation users does not exist`);
  });

  test("then the first container that is not healthy, with its last log line (timestamp off), or its health check's last output", () => {
    expect(failureReason(report({ suspects: [suspect()] }), 'x')).toBe('web exited with code 1: Error: connect ECONNREFUSED 10.0.0.5:5432');
    const unhealthy = suspect({ status: 'is unhealthy', clueFromChecks: true, checks: ['2026-12-06T05:00:02Z exit 1: db check failed'] });
    expect(failureReason(report({ suspects: [unhealthy] }), 'x')).toBe('web is unhealthy: db check failed');
    expect(failureReason(report({ suspects: [suspect({ logs: [] })] }), 'x')).toBe('web exited with code 1');
  });

  test("then the gate's last failing response with the start of its body; else the error itself; never more than one line of 300", () => {
    const responses = [
      { round: 4, url: 'http://h/health', status: 500, ms: 12, error: 'HTTP 500 from http://h/health', body: '{"error":\n"database is down"}' },
    ];
    expect(failureReason(report({ suspects: [suspect({ unhealthy: false })], responses }), 'x')).toBe('health gate: HTTP 500 from http://h/health in 12ms: {"error": / "database is down"}');
    expect(failureReason(report({ responses: [{ round: 2, url: 'http://h/', error: 'connection refused' }] }), 'x')).toBe('health gate: http://h/: connection refused');
    expect(failureReason(report(), 'release 3 failed\nbadly')).toBe('release 3 failed / badly');
    expect(failureReason(undefined, 'e'.repeat(400))).toHaveLength(300);
  });

  test("the gate's failed requests of its last three failing rounds, with their bodies", () => {
    const round = (n: number, ok: boolean) => ({ n, ok, results: [{ url: 'http://h/', ok, ...(ok ? { status: 200 } : { status: 503, error: 'HTTP 503 from http://h/', body: `r${n}` }) }] });
    const gate: GateResult = { healthy: false, attempts: 6, successes: 0, p50Ms: undefined, p95Ms: undefined, reason: '', elapsedMs: 1, rounds: [1, 2, 3, 4, 5, 6].map((n) => round(n, n === 5)) };
    expect(failedResponses(gate).map((r) => [r.round, r.body])).toEqual([[3, 'r3'], [4, 'r4'], [6, 'r6']]);
    expect(failedResponses({ ...gate, healthy: true })).toEqual([]);
  });
});

describe('the report in the log and the job summary', () => {
  test('the log: the command with its error lines, each container with its facts, checks and log lines', () => {
    const lines = failureLogLines(report({ command: { command: 'up', exit: 'exit 1', stderr: ['no space left'] }, suspects: [suspect({ checks: ['t exit 1: nope'] })] }));
    expect(lines).toEqual([
      'failed command (Start containers, exit 1): up',
      '  stderr | no space left',
      'shop-web-1 (web) exited with code 1; exit code: 1',
      '  check | t exit 1: nope',
      '  log | 2026-12-06T05:00:00.1Z starting',
      '  log | 2026-12-06T05:00:00.2Z Error: connect ECONNREFUSED 10.0.0.5:5432',
      '  log | ',
    ]);
    expect(failureLogLines(report())).toEqual(['nothing more to show: the error above is all that is known']);
  });

  test('the summary: the reason in bold, a section per container (open when it is the failed one), logs in a fence they cannot end', () => {
    const markdown = failureSummary(
      report({ suspects: [suspect({ logs: ['````', '<script>alert(1)</script>'] }), suspect({ name: 'shop-db-1', service: 'db', unhealthy: false, status: 'is running', logs: [] })] }),
      'web exited with code 1: <boom> | pipe',
    );
    expect(markdown).toContain('**web exited with code 1: &lt;boom&gt; \\| pipe**');
    expect(markdown).toContain('<details open><summary><code>shop-web-1</code> (web) exited with code 1</summary>');
    expect(markdown).toContain('Last 2 log lines:\n\n`````text\n````\n<script>alert(1)</script>\n`````');
    expect(markdown).toContain('<details><summary><code>shop-db-1</code> (db) is running</summary>');
    expect(markdown).toContain('No log lines.');
  });
});

describe('masking text from the host', () => {
  test('every masked secret is replaced, the longest first so one that holds another goes whole', () => {
    const masks = new MaskList();
    masks.add('hunter2');
    masks.add('hunter2-and-more');
    masks.add('');
    // Too short to replace in what deploy-kit writes: it would blank out every `-`.
    masks.add('-');
    expect(masks.redact('a hunter2-and-more b hunter2 c-d')).toBe('a *** b *** c-d');
  });
});

describe('Slack', () => {
  const facts = { app: 'shop', environment: 'production', version: 'v2', environmentUrl: '', text: '', mention: '', actor: 'ann', commit: '', commitUrl: '', runUrl: 'https://github.com/acme/shop/actions/runs/1' };

  test('a failed or rolled-back deploy shows why under the run link; a success does not', () => {
    const reason = 'web exited with code 1: Error: <connect> ```x```';
    for (const status of ['failure', 'rolled-back'] as const) {
      const message = buildMessage({ ...facts, status, failureReason: reason });
      const blocks = message.attachments[0]!.blocks;
      expect(blocks.map((b) => b.type)).toEqual(['section', 'actions', 'section']);
      expect(JSON.stringify(blocks[2])).toContain("*Why it failed*\\n```web exited with code 1: Error: &lt;connect&gt; '''x'''```");
      expect(message.text).toContain(' Why: web exited with code 1');
    }
    const success = buildMessage({ ...facts, status: 'success', failureReason: reason });
    expect(JSON.stringify(success)).not.toContain('Why');
  });
});
