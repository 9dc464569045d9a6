import { ConfigurationError } from '../errors.js';
import { InputSource, oneOf, parseBoolean, parseList, printable } from '../inputs/parse.js';
import { StrategySettings } from './types.js';

/**
 * Reads `strategy`, `services`, `switch-command` and `keep-previous-running`. Undefined for
 * `recreate` (the default), so a deploy without these inputs is exactly what it always was.
 */
export function readStrategySettings(input: InputSource): StrategySettings | undefined {
  const kind = oneOf('strategy', input('strategy'), ['recreate', 'rolling', 'blue-green'] as const, 'recreate');
  const services = parseList(input('services'));
  for (const service of services) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(service)) throw new ConfigurationError(`Input 'services' names '${printable(service)}', which is not a compose service name.`);
  }
  const switchCommand = input('switch-command');
  const keepPreviousRunning = parseBoolean('keep-previous-running', input('keep-previous-running'));
  if (kind === 'recreate') {
    if (switchCommand !== '') throw new ConfigurationError("Input 'switch-command' is only used with 'strategy: blue-green'.");
    return undefined;
  }
  if (kind === 'rolling') {
    throw new ConfigurationError("Input 'strategy': 'rolling' is not available yet in this version; use 'blue-green' (zero-downtime behind a proxy you switch) or 'recreate'.");
  }
  if (switchCommand.trim() === '') {
    throw new ConfigurationError(
      "Input 'switch-command' is required with 'strategy: blue-green': a command run on the host that points your proxy at $DEPLOY_KIT_ADDRESS, e.g. `printf 'server %s;\\n' \"$DEPLOY_KIT_ADDRESS\" > /etc/nginx/upstream.conf && nginx -s reload`.",
    );
  }
  return { kind, services, switchCommand, keepPreviousRunning };
}
