import type { Duplex, Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { CommandFailedError, ConnectionLostError, OperationError, errorMessage } from '../errors.js';
import { formatDuration } from '../inputs/parse.js';
import { Command, ShellLine, shellLine } from '../shell/quote.js';
import { HostKeyPolicy, hostKeyAlgorithms, pinnedKeyTypes, verifyHostKey } from './known-hosts.js';
import { LoginShell, firstCommand, forLoginShell, loginShellOf, readFirstCommand } from './login-shell.js';
import { SshSettings, SshTarget, describeTarget } from './settings.js';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to the command's standard input (secrets travel this way, never in argv). */
  readonly stdin?: string | Readable;
  /** Return a non-zero exit instead of throwing. */
  readonly allowFailure?: boolean;
  /** Run whatever the guards say (see `guard`): the lock's own heartbeat and release, and removing credentials this run placed. */
  readonly unguarded?: boolean;
  /** What the command does, as messages name it (a guard's refusal), where its line is plumbing around it. */
  readonly label?: string;
}

export interface RemoteStream {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when the remote command ends, with its exit code (null when killed by a signal). */
  readonly exit: Promise<{ code: number | null; signal: string | undefined }>;
}

/** Sees every command before it runs (for debug logs and tests); never receives stdin. */
export type CommandObserver = (target: SshTarget, line: string) => void;

/**
 * One SSH connection to one host, used for the whole run: commands, SFTP writes, streams
 * and port forwards all go over it. Its host key is checked before authentication. Commands
 * are POSIX shell text run by the host's /bin/sh, whatever the login shell (login-shell.ts).
 */
export class RemoteHost {
  private sftpSession: Promise<SFTPWrapper> | undefined;
  /** Rejects once the connection is gone: SFTP requests on a dead connection never call back, so each one races this. */
  private readonly lost: Promise<never>;
  private isLost = false;
  /** Checked before each command, file write and stream; a check that throws refuses it (see `guard`). */
  private readonly guards = new Set<(what: string) => Promise<void>>();

  private constructor(
    readonly target: SshTarget,
    private readonly ssh: NodeSSH,
    private readonly jump: NodeSSH | undefined,
    private readonly observe: CommandObserver | undefined,
    private readonly shell: LoginShell,
    /** What the `greeting` given to `connect` printed. */
    readonly greeting: string,
  ) {
    this.lost = new Promise<never>((_resolve, reject) => {
      const gone = () => {
        this.isLost = true;
        reject(new ConnectionLostError(`Lost the SSH connection to ${describeTarget(target)}`));
      };
      if (ssh.connection) ssh.connection.once('close', gone);
      else gone();
    });
    this.lost.catch(() => undefined);
  }

  /** `work`, or the lost connection's error if the connection goes first. */
  private untilLost<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.lost]);
  }

  /**
   * Connects and learns the login shell with a first command, which also runs `greeting`
   * (deploy-kit's own POSIX text, e.g. what the host has installed) in the same round trip.
   */
  static async connect(settings: SshSettings, observe?: CommandObserver, greeting?: ShellLine): Promise<RemoteHost> {
    let jump: NodeSSH | undefined;
    let sock: ClientChannel | undefined;
    let jumpKey: Buffer | undefined;
    if (settings.proxyJump) {
      const jumpHost = settings.proxyJump;
      jump = await open(settings, { target: jumpHost, hostKeys: jumpHost.hostKeys, role: 'jump host', seen: (key) => (jumpKey = key) });
      try {
        sock = await forwardOut(jump, settings.host, settings.port);
      } catch (error) {
        jump.dispose();
        throw new OperationError(`Cannot reach ${describeTarget(settings)} through the jump host ${describeTarget(settings.proxyJump)}: ${errorMessage(error)}`);
      }
    }
    let ssh: NodeSSH | undefined;
    try {
      // Behind a jump host, the target must not present the jump host's own key: that is the jump host answering for it.
      ssh = await open(settings, { target: settings, hostKeys: settings.hostKeys, role: 'host', sock, refused: jumpKey });
      const { shell, rest } = await identify(ssh, settings, greeting, observe);
      return new RemoteHost(settings, ssh, jump, observe, shell, rest);
    } catch (error) {
      ssh?.dispose();
      jump?.dispose();
      throw error;
    }
  }

  /**
   * Has `check` run before every later command, file write and stream on this host (except
   * those run `unguarded`), until the returned function removes it. A check that throws
   * refuses the command with its error: how a run that lost its deploy lock stops.
   */
  guard(check: (what: string) => Promise<void>): () => void {
    this.guards.add(check);
    return () => this.guards.delete(check);
  }

  private async checkGuards(what: string): Promise<void> {
    for (const check of this.guards) await check(what);
  }

  /**
   * Runs one command, in an exec channel of its own over the run's one connection (a channel
   * costs a round trip to open; several commands that belong together are joined into one
   * line by their builders). Throws an OperationError naming the host and the command's error
   * output on a non-zero exit, and a ConnectionLostError when the connection is gone.
   */
  async run(command: Command | ShellLine, options: RunOptions = {}): Promise<ExecResult> {
    const { text: line, label = line } = shellLine(command);
    const shown = abbreviate(options.label ?? label);
    if (!options.unguarded) await this.checkGuards(options.label ?? label);
    this.observe?.(this.target, line);
    let result: { code: number | null; signal?: string | null; stdout: string; stderr: string };
    try {
      result = await this.ssh.execCommand(forLoginShell(this.shell, { text: line }), options.stdin === undefined ? {} : { stdin: options.stdin });
    } catch (error) {
      if (this.isLost || !this.ssh.isConnected()) throw new ConnectionLostError(`Lost the SSH connection to ${describeTarget(this.target)}: ${errorMessage(error)}`);
      throw new OperationError(`${describeTarget(this.target)}: could not start '${shown}': ${errorMessage(error)}`);
    }
    if (result.code === null && !result.signal) {
      // The channel closed without an exit status or a signal: the connection dropped mid-command.
      throw new ConnectionLostError(`Lost the SSH connection to ${describeTarget(this.target)} while running '${shown}'`);
    }
    const code = result.code ?? 128;
    if (code !== 0 && !options.allowFailure) {
      const said = (result.stderr || result.stdout).trim().split('\n');
      const detail = said.slice(-3).join(' / ');
      const how = result.code === null ? `killed by ${String(result.signal).replace(/^(?!SIG)/, 'SIG')}` : `exit ${code}`;
      const message = `${describeTarget(this.target)}: '${shown}' failed (${how})${detail ? `: ${detail}` : ''}`;
      throw new CommandFailedError(message, options.label ?? label, how, detail ? said.slice(-FAILED_OUTPUT_LINES) : []);
    }
    return { code, stdout: result.stdout, stderr: result.stderr };
  }

  /**
   * Starts a command and hands back its output as streams, for data too large to buffer.
   * `stdin` (a password line) is written to its standard input, which then ends.
   */
  async stream(command: Command | ShellLine, options: { readonly stdin?: string } = {}): Promise<RemoteStream> {
    const line = shellLine(command).text;
    await this.checkGuards(line);
    this.observe?.(this.target, line);
    const channel = await this.connection().execAsync(forLoginShell(this.shell, { text: line }));
    const exit = new Promise<{ code: number | null; signal: string | undefined }>((resolve) => {
      channel.once('exit', (code: number | null, signal?: string) => resolve({ code, signal }));
      channel.once('close', () => resolve({ code: null, signal: 'connection closed' }));
    });
    if (options.stdin === undefined) channel.stdin.end();
    else channel.stdin.end(options.stdin);
    return { stdout: channel, stderr: channel.stderr, exit };
  }

  /** Writes a file atomically over SFTP (temp file + rename), with the given mode from the start. */
  async writeFile(path: string, content: string | Buffer, mode: number): Promise<void> {
    await this.checkGuards(`write ${path}`);
    const sftp = await this.untilLost(this.sftp());
    const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
    try {
      await this.untilLost(new Promise<void>((resolve, reject) => sftp.writeFile(temp, content, { mode }, (err) => (err ? reject(err) : resolve()))));
      await this.untilLost(new Promise<void>((resolve, reject) => sftp.ext_openssh_rename(temp, path, (err) => (err ? reject(err) : resolve()))));
    } catch (error) {
      if (this.isLost) throw new ConnectionLostError(`Lost the SSH connection to ${describeTarget(this.target)} while writing ${path}`);
      await this.untilLost(new Promise<void>((resolve) => sftp.unlink(temp, () => resolve()))).catch(() => undefined);
      throw new OperationError(`${describeTarget(this.target)}: cannot write ${path}: ${errorMessage(error)}`);
    }
  }

  /** Opens a TCP connection from the host to host:port (the host's loopback by default). */
  async forward(port: number, host = '127.0.0.1'): Promise<Duplex> {
    return this.connection().forwardOutAsync(host, port);
  }

  async close(): Promise<void> {
    this.ssh.dispose();
    this.jump?.dispose();
  }

  private connection() {
    const connection = this.ssh.connection;
    if (!connection) throw new OperationError(`The SSH connection to ${describeTarget(this.target)} is closed`);
    return {
      execAsync: (line: string) =>
        new Promise<ClientChannel>((resolve, reject) => connection.exec(line, (err, ch) => (err ? reject(err) : resolve(ch)))),
      forwardOutAsync: (host: string, port: number) => forwardOut(this.ssh, host, port),
    };
  }

  /**
   * Starts the SFTP session now, while other commands run, for a run that will write files:
   * its set-up (a channel, the subsystem, the version exchange) then costs no round trips of
   * its own. A failure surfaces at the first write.
   */
  prepareFileWrites(): void {
    this.sftp().catch(() => undefined);
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= this.ssh.requestSFTP();
    return this.sftpSession;
  }
}

/** Runs the first command (see login-shell.ts): which shell the login has, and the greeting's output. */
async function identify(ssh: NodeSSH, target: SshTarget, greeting: ShellLine | undefined, observe: CommandObserver | undefined): Promise<{ shell: LoginShell; rest: string }> {
  const command = firstCommand(greeting);
  observe?.(target, command);
  const result = await ssh.execCommand(command);
  const { shellPath, rest } = readFirstCommand(result.stdout);
  const where = describeTarget(target);
  if (result.code !== 0 || !/^login-shell=/.test(result.stdout)) {
    const said = (result.stderr || result.stdout).trim().split('\n').slice(-2).join(' / ');
    throw new OperationError(`${where} does not run commands for deploy-kit (exit ${result.code ?? 'none'}${said ? `: ${said}` : ''}). The account needs a login shell (bash, sh, zsh or fish) and no forced command that refuses them.`);
  }
  const shell = loginShellOf(shellPath);
  if (!shell) {
    throw new OperationError(
      `${where}: the login shell is ${shellPath}, which deploy-kit cannot hand commands to. Give ${target.username} bash, sh, dash, zsh or fish (e.g. 'sudo chsh -s /bin/bash ${target.username}').`,
    );
  }
  return { shell, rest };
}

function forwardOut(ssh: NodeSSH, host: string, port: number): Promise<ClientChannel> {
  const connection = ssh.connection;
  if (!connection) return Promise.reject(new OperationError('The SSH connection is closed'));
  return new Promise((resolve, reject) => connection.forwardOut('127.0.0.1', 0, host, port, (err, ch) => (err ? reject(err) : resolve(ch))));
}

/** How many of a failed command's last lines of error output its CommandFailedError keeps. */
const FAILED_OUTPUT_LINES = 20;

function abbreviate(line: string): string {
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** One SSH connection to open: the host, the keys it may present, and (behind a jump host) the channel to it. */
interface Endpoint {
  readonly target: SshTarget;
  readonly hostKeys: HostKeyPolicy;
  readonly role: 'host' | 'jump host';
  readonly sock?: ClientChannel | undefined;
  /** A key this host must not present, however it was pinned. */
  readonly refused?: Buffer | undefined;
  /** Told the key the host presented, once it was accepted. */
  readonly seen?: (key: Buffer) => void;
}

async function open(settings: SshSettings, endpoint: Endpoint): Promise<NodeSSH> {
  const { target, hostKeys, sock } = endpoint;
  const ssh = new NodeSSH();
  let refusal: string | undefined;
  // With fingerprints pinned for this host, the key type is not known before the exchange: every type is offered.
  const keyTypes = hostKeys.fingerprints.length === 0 ? pinnedKeyTypes(hostKeys, target.host, target.port) : [];
  try {
    await ssh.connect({
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: settings.privateKey,
      ...(settings.passphrase ? { passphrase: settings.passphrase } : {}),
      readyTimeout: settings.connectTimeoutMs,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      ...(sock ? { sock } : {}),
      ...(keyTypes.length > 0 ? { algorithms: { serverHostKey: hostKeyAlgorithms(keyTypes) as never } } : {}),
      hostVerifier: (key: Buffer) => {
        const verdict = verifyHostKey(hostKeys, target.host, target.port, key, endpoint.refused);
        if (verdict.ok) endpoint.seen?.(key);
        else refusal = verdict.reason;
        return verdict.ok;
      },
    });
  } catch (error) {
    ssh.dispose();
    throw connectError(settings, endpoint, error, refusal);
  }
  // Every command is a handful of small round trips; with Nagle's algorithm on, each one waits
  // for the peer's delayed ACK (40 ms on Linux), which made a bare `true` take ~250 ms.
  ssh.connection?.setNoDelay(true);
  // A connection that drops later must not crash the process; commands report it instead.
  ssh.connection?.on('error', () => undefined);
  return ssh;
}

function connectError(settings: SshSettings, endpoint: Endpoint, error: unknown, refusal: string | undefined): OperationError {
  const { target } = endpoint;
  const where = describeTarget(target);
  const hostPort = `${endpoint.role === 'jump host' ? 'the jump host ' : ''}${target.host}:${target.port}`;
  if (refusal) {
    const pin = endpoint.hostKeys.fingerprintInput;
    return new OperationError(
      `Host key verification failed for ${hostPort}: ${refusal}. Nothing was sent to the host. ` +
        `If the host was rebuilt, check the new key out of band and update 'known-hosts' (ssh-keyscan -p ${target.port} ${target.host}) or '${pin}'.`,
    );
  }
  const err = error as NodeJS.ErrnoException & { level?: string };
  switch (err.code) {
    case 'ECONNREFUSED':
      return new OperationError(`Cannot connect to ${hostPort}: connection refused. Check 'host' and 'port', and that sshd is running.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new OperationError(`Cannot connect to ${hostPort}: the name ${target.host} does not resolve. Check 'host'.`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new OperationError(`Cannot connect to ${hostPort}: no route to the host. Check 'host' and the firewall.`);
    default:
  }
  if (err.level === 'client-timeout' || /timed out/i.test(err.message ?? '')) {
    return new OperationError(`Cannot connect to ${hostPort}: no SSH handshake within ${formatDuration(settings.connectTimeoutMs)} ('connect-timeout').`);
  }
  if (err.level === 'client-authentication') {
    return new OperationError(
      `Permission denied for ${where}: the host does not accept 'private-key'. Add its public key to ~${target.username}/.ssh/authorized_keys on the host.`,
    );
  }
  return new OperationError(`Cannot connect to ${where}: ${errorMessage(error)}`);
}
