import { ConfigurationError } from '../../src/errors.js';
import { readGateSettings } from '../../src/health/settings.js';
import type { GateSettings } from '../../src/health/types.js';
import { InputSource, invalid, parseBoolean, parseFailureLogLines } from '../../src/inputs/parse.js';
import { Masker, SshSettings, readSshHosts } from '../../src/ssh/settings.js';

export interface HealthgateInputs {
  readonly gate: GateSettings;
  /** Given when `host` is: the URLs are then reached through the SSH tunnel of each host listed. */
  readonly hosts: readonly SshSettings[];
  /** Fail the step when unhealthy; false: only set outputs. */
  readonly fail: boolean;
  /** `failure-log-lines`: each container's last log lines when `containers` fails (0: none). */
  readonly failureLogLines: number;
}

/** Compose project names as Compose accepts them (and deploy-kit's app names are). */
const PROJECT = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The only place action-healthgate reads its inputs: all of them, checked, before any request. */
export function readHealthgateInputs(input: InputSource, mask: Masker): HealthgateInputs {
  const gate = readGateSettings(input, mask, '');
  if (!gate) throw new ConfigurationError("Input 'url' is required: the URL(s) to check, one per line.");
  const containers = input('containers');
  if (containers !== '' && !PROJECT.test(containers)) {
    throw invalid('containers', 'must be a compose project (app) name: lowercase letters, digits, - and _, starting with a letter or digit', containers);
  }
  const hosts = input('host') === '' ? [] : readSshHosts(input, mask);
  if (containers !== '' && hosts.length === 0) {
    throw new ConfigurationError(
      "Input 'containers' needs the SSH inputs ('host', 'username', 'private-key', 'known-hosts') so the containers can be inspected on the host.",
    );
  }
  return {
    gate: { ...gate, viaHost: hosts.length > 0, ...(containers === '' ? {} : { containers }) },
    hosts,
    fail: parseBoolean('fail', input('fail'), true),
    failureLogLines: parseFailureLogLines(input),
  };
}
