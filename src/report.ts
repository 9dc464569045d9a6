/**
 * How the shared library talks to the person reading the log. Actions hand in one backed
 * by @actions/core; the library never imports @actions/* itself.
 */
export interface Reporter {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  /** Runs `fn` inside a collapsible log group named `title`. */
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

export interface PhaseTiming {
  readonly name: string;
  readonly ms: number;
  readonly ok: boolean;
}

/** Wraps a reporter so that every group is timed, for the job summary. */
export class TimedReporter implements Reporter {
  readonly phases: PhaseTiming[] = [];

  constructor(private readonly inner: Reporter) {}

  info(message: string): void {
    this.inner.info(message);
  }
  warning(message: string): void {
    this.inner.warning(message);
  }
  debug(message: string): void {
    this.inner.debug(message);
  }

  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      const value = await this.inner.group(title, fn);
      this.phases.push({ name: title, ms: performance.now() - start, ok: true });
      return value;
    } catch (error) {
      this.phases.push({ name: title, ms: performance.now() - start, ok: false });
      throw error;
    }
  }
}

/**
 * A reporter for one host among several working at once: every line starts with the host's
 * label, and its groups become plain `label ▸ title` lines (log groups cannot interleave).
 */
export function labelledReporter(inner: Reporter, label: string): Reporter {
  return {
    info: (message) => inner.info(`[${label}] ${message}`),
    warning: (message) => inner.warning(`[${label}] ${message}`),
    debug: (message) => inner.debug(`[${label}] ${message}`),
    group: async (title, fn) => {
      inner.info(`[${label}] ▸ ${title}`);
      return fn();
    },
  };
}
