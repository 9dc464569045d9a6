import { readGateSettings } from '../../src/health/settings.js';
import type { GateSettings } from '../../src/health/types.js';
import { parseAppName, parseDeployPath } from '../../src/inputs/names.js';
import { InputSource, invalid, parseDuration, parseFailureLogLines } from '../../src/inputs/parse.js';
import { readLockOptions } from '../../src/release/lock.js';
import type { RollbackSettings } from '../../src/rollback/rollback.js';
import type { RunContext } from '../../src/run-context.js';
import { Masker, SshSettings, readSshHosts } from '../../src/ssh/settings.js';
import { parseParallel } from '../../src/fleet/batches.js';

/** The only place action-rollback reads its inputs. */
export interface RollbackInputs {
  readonly rollback: RollbackSettings;
  readonly gate: GateSettings | undefined;
  /** Every host `host` lists (`rollback.ssh` is the first) and how many roll back at once. */
  readonly hosts: readonly SshSettings[];
  readonly parallel: number;
}

export function readRollbackInputs(input: InputSource, mask: Masker, context: { run: RunContext; defaultApp: string }): RollbackInputs {
  const to = input('to') || 'previous';
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(to)) throw invalid('to', "must be 'previous', a release id or a version", to);
  const reason = input('reason');
  if (reason.length > 500 || /[\r\n]/.test(reason)) throw invalid('reason', 'must be one line of at most 500 characters');
  const hosts = readSshHosts(input, mask);
  return {
    hosts,
    parallel: parseParallel(input('parallel'), hosts.length),
    rollback: {
      ssh: hosts[0]!,
      app: parseAppName(input('app'), context.defaultApp),
      deployPath: parseDeployPath(input('deploy-path')),
      to,
      reason,
      waitTimeoutMs: parseDuration('wait-timeout', input('wait-timeout'), '2m'),
      failureLogLines: parseFailureLogLines(input),
      lock: readLockOptions(input),
      run: context.run,
    },
    gate: readGateSettings(input, mask, 'health-'),
  };
}
