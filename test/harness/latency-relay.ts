import { Server, Socket, createConnection, createServer } from 'node:net';

/**
 * A TCP relay that makes a loopback service as far away as a real server: every chunk is held
 * `oneWayMs` in each direction before it is passed on (a round trip costs 2 x oneWayMs), in
 * order, with back-pressure. This kernel has no netem qdisc, so latency is built here.
 *
 * It also counts what the latency is paid for: connections, and turns. A turn is the client
 * sending after it last received (or for the first time) on a connection: each is an exchange
 * the client had to wait for, so each costs at least one round trip. Counts are taken at the
 * relay's arrival times, before the delay.
 */
export interface RelayCounts {
  readonly connections: number;
  readonly turns: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
}

interface Held {
  /** null: the sender's end (FIN), delayed like the data before it. */
  readonly chunk: Buffer | null;
  readonly due: number;
}

/** One direction of one connection: chunks from `from` reach `to` oneWayMs after they arrived. */
class DelayedPipe {
  private readonly queue: Held[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    oneWayMs: number,
    onChunk: (chunk: Buffer) => void,
  ) {
    from.on('data', (chunk: Buffer) => {
      onChunk(chunk);
      this.queue.push({ chunk, due: performance.now() + oneWayMs });
      this.schedule();
    });
    from.on('end', () => {
      this.queue.push({ chunk: null, due: performance.now() + oneWayMs });
      this.schedule();
    });
    to.on('drain', () => from.resume());
  }

  private schedule(): void {
    if (this.timer) return;
    const head = this.queue[0];
    if (!head) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.due - performance.now()));
  }

  private flush(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.due <= now + 1) {
      const { chunk } = this.queue.shift()!;
      if (chunk === null) this.to.end();
      else if (!this.to.write(chunk)) this.from.pause();
    }
    this.schedule();
  }
}

export class LatencyRelay {
  private counts = { connections: 0, turns: 0, bytesUp: 0, bytesDown: 0 };
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and relays each connection to `target` with `oneWayMs` each way. */
  static start(target: { readonly host: string; readonly port: number }, oneWayMs: number): Promise<LatencyRelay> {
    let relay: LatencyRelay | undefined;
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => relay!.accept(client, target, oneWayMs));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        relay = new LatencyRelay(server, typeof address === 'object' && address ? address.port : 0);
        resolve(relay);
      });
    });
  }

  private accept(client: Socket, target: { readonly host: string; readonly port: number }, oneWayMs: number): void {
    this.counts.connections += 1;
    const server = createConnection({ host: target.host, port: target.port, noDelay: true, allowHalfOpen: true });
    let lastFromClient = false;
    new DelayedPipe(client, server, oneWayMs, (chunk) => {
      if (!lastFromClient) this.counts.turns += 1;
      lastFromClient = true;
      this.counts.bytesUp += chunk.length;
    });
    new DelayedPipe(server, client, oneWayMs, (chunk) => {
      lastFromClient = false;
      this.counts.bytesDown += chunk.length;
    });
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.on('error', () => {
        client.destroy();
        server.destroy();
      });
      socket.on('close', () => this.sockets.delete(socket));
    }
  }

  /** What passed since the start or the last reset. */
  read(): RelayCounts {
    return { ...this.counts };
  }

  reset(): void {
    this.counts = { connections: 0, turns: 0, bytesUp: 0, bytesDown: 0 };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
