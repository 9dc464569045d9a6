import { randomUUID } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { quote } from '../shell/quote.js';

/**
 * One long-lived shell on the host that runs a run's commands one after another.
 *
 * Every exec channel is a new session on the host: sshd forks, sets the session up (PAM and
 * systemd-logind on most distributions) and starts the user's login shell, which for bash
 * reads ~/.bashrc even for `bash -c`. On the test host that costs 85-200 ms before the command
 * starts. A command written to a shell that is already there costs a fork and a shell.
 *
 * The shell is started once by the login shell (`exec /bin/sh`), so the environment its rc
 * files export is there. Each command then runs as an exec would run it: in its own
 * `$SHELL -c '...'` and session (see PRELUDE), with standard input from /dev/null (so it
 * cannot read the commands that follow), in the home folder, and a syntax error ends only
 * that command. After it, the shell prints a marker with a nonce of that command and its exit
 * status, on stdout and on stderr, so each output is cut exactly where it ends.
 */
export interface ShellResult {
  /** The exit status, or null when the shell went away before the command finished. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a command run through `script` printed, cut at its marker; undefined until the marker line is complete. */
export interface Marked {
  readonly output: Buffer;
  /** The exit status on the stdout marker line. */
  readonly status?: number;
}

const MARKER = '@@deploy-kit-done';
const READY = '@@deploy-kit-shell';

/**
 * Sent once, before the first command: keeps SHLVL at 1 or more (bash then knows it is not the
 * session's first shell and does not read ~/.bashrc for each command), and defines how a
 * command runs: `$SHELL -c`, in a session of its own where `setsid -w` exists (util-linux),
 * as an exec channel's command is, so a command that signals its process group (`kill 0`)
 * reaches only itself and not the shell.
 */
const PRELUDE =
  '[ "${SHLVL:-0}" -gt 0 ] 2>/dev/null || export SHLVL=1; ' +
  'if setsid -w true </dev/null >/dev/null 2>&1; then dk_run() { setsid -w /bin/sh -c "$1"; }; ' +
  'else dk_run() { /bin/sh -c "$1"; }; fi;';

/** The text the shell is sent for one command (`line` is a command as an exec would get it). */
export function script(line: string, nonce: string): string {
  return `dk_run ${quote(line)} </dev/null; printf '\\n%s %s\\n' ${MARKER}-${nonce} "$?"; printf '\\n%s\\n' ${MARKER}-${nonce} >&2\n`;
}

/**
 * Finds a command's end in what one stream (stdout, or stderr with `withStatus` false) has
 * carried so far: the output before `\n<marker>-<nonce>`, and the exit status after it.
 */
export function cutAtMarker(carried: Buffer, nonce: string, withStatus: boolean): Marked | undefined {
  const at = carried.indexOf(`\n${MARKER}-${nonce}${withStatus ? ' ' : '\n'}`);
  if (at === -1) return undefined;
  if (!withStatus) return { output: carried.subarray(0, at) };
  const statusStart = at + MARKER.length + nonce.length + 3;
  const end = carried.indexOf('\n', statusStart);
  if (end === -1) return undefined;
  const status = Number(carried.subarray(statusStart, end).toString('latin1'));
  return { output: carried.subarray(0, at), status: Number.isInteger(status) ? status : 255 };
}

/** One stream's bytes of the running command, until its marker. */
class MarkedOutput {
  private chunks: Buffer[] = [];
  private tail = Buffer.alloc(0);
  private seenMarker = false;
  private marked: Marked | undefined;
  private readonly marker: Buffer;

  constructor(
    private readonly nonce: string,
    private readonly withStatus: boolean,
  ) {
    this.marker = Buffer.from(`\n${MARKER}-${nonce}`);
  }

  add(chunk: Buffer): void {
    if (this.marked) return;
    this.chunks.push(chunk);
    // Only the end of what came before can hold the start of a marker split across chunks.
    const recent = Buffer.concat([this.tail, chunk]);
    this.tail = recent.subarray(Math.max(0, recent.length - this.marker.length - 16));
    this.seenMarker ||= recent.includes(this.marker);
    if (this.seenMarker) this.marked = cutAtMarker(Buffer.concat(this.chunks), this.nonce, this.withStatus);
  }

  get done(): Marked | undefined {
    return this.marked;
  }

  text(): string {
    return (this.marked?.output ?? Buffer.concat(this.chunks)).toString('utf8');
  }
}

interface Running {
  readonly stdout: MarkedOutput;
  readonly stderr: MarkedOutput;
  readonly finish: (result: ShellResult) => void;
}

export class CommandShell {
  private running: Running | undefined;
  /** No command may start: the shell exited, or its channel is closing or closed. */
  private ended = false;

  private constructor(private readonly channel: ClientChannel) {
    channel.on('data', (chunk: Buffer) => this.receive(chunk, 'stdout'));
    channel.stderr.on('data', (chunk: Buffer) => this.receive(chunk, 'stderr'));
    // The shell is gone as soon as it exits or its output ends; a running command is
    // finished (without a status) only at `close`, once all its output is in.
    channel.on('exit', () => (this.ended = true));
    channel.on('end', () => (this.ended = true));
    channel.on('close', () => this.end());
    channel.on('error', () => this.end());
  }

  /**
   * Starts the shell through `exec` (one exec channel, opened once) and checks that a shell
   * answers: where the account runs something else (a forced `command=` in authorized_keys, a
   * restricted shell), this rejects within `timeoutMs` and the caller keeps using exec.
   */
  static async open(exec: (line: string) => Promise<ClientChannel>, timeoutMs = 10_000): Promise<CommandShell> {
    const channel = await exec('exec /bin/sh');
    const shell = new CommandShell(channel);
    try {
      await shell.handshake(timeoutMs);
    } catch (error) {
      shell.ended = true;
      channel.close();
      throw error;
    }
    return shell;
  }

  /** Whether a command can be given now (one at a time; a busy or ended shell is passed by). */
  get available(): boolean {
    return !this.running && !this.ended;
  }

  /** Runs `line`; call only when `available`. */
  run(line: string): Promise<ShellResult> {
    if (!this.available) throw new Error('The command shell is busy or has ended');
    const nonce = randomUUID();
    const text = script(line, nonce);
    return new Promise<ShellResult>((resolve) => {
      this.running = { stdout: new MarkedOutput(nonce, true), stderr: new MarkedOutput(nonce, false), finish: resolve };
      this.channel.write(text);
    });
  }

  /**
   * Defines how each command runs (see `script`) and waits for the shell's answer. The answer
   * is printed as two words joined by printf, so an echo of the input is not taken for it.
   */
  private handshake(timeoutMs: number): Promise<void> {
    const nonce = randomUUID();
    const answer = `${READY}-${nonce}\n`;
    return new Promise<void>((resolve, reject) => {
      let seen = '';
      const onData = (chunk: Buffer) => {
        seen = (seen + chunk.toString('latin1')).slice(-4096);
        if (!seen.includes(answer)) return;
        cleanup();
        resolve();
      };
      const fail = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onClose = () => fail(new Error('the shell ended at once'));
      const onError = (error: Error) => fail(error);
      const timer = setTimeout(() => fail(new Error(`no shell answered within ${timeoutMs} ms`)), timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.channel.off('data', onData);
        this.channel.off('close', onClose);
        this.channel.off('error', onError);
      };
      this.channel.on('data', onData);
      this.channel.on('close', onClose);
      this.channel.on('error', onError);
      this.channel.write(`${PRELUDE} printf '%s-%s\\n' ${READY} ${nonce}\n`);
    });
  }

  private receive(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    const running = this.running;
    if (!running) return; // the handshake's answer, or output of a background job of an earlier command
    running[stream].add(chunk);
    const out = running.stdout.done;
    if (out && running.stderr.done) {
      this.running = undefined;
      running.finish({ code: out.status ?? 255, stdout: running.stdout.text(), stderr: running.stderr.text() });
    }
  }

  private end(): void {
    this.ended = true;
    const running = this.running;
    this.running = undefined;
    running?.finish({ code: null, stdout: running.stdout.text(), stderr: running.stderr.text() });
  }
}
