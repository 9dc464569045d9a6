import { ConfigurationError } from '../errors.js';
import { InputSource, oneOf, parseBoolean, parseList, printable } from '../inputs/parse.js';
import { DEFAULT_NGINX_RELOAD } from './nginx.js';
import { StrategySettings } from './types.js';

/**
 * Reads `strategy`, `services`, `switch-command`, `keep-previous-running` and
 * `nginx-reload-command`. Undefined for `recreate` (the default), so a deploy without these
 * inputs is exactly what it always was. blue-green without a switch-command uses the built-in
 * nginx switch.
 */
export function readStrategySettings(input: InputSource): StrategySettings | undefined {
  const kind = oneOf('strategy', input('strategy'), ['recreate', 'rolling', 'blue-green'] as const, 'recreate');
  const services = parseList(input('services'));
  for (const service of services) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(service)) throw new ConfigurationError(`Input 'services' names '${printable(service)}', which is not a compose service name.`);
  }
  const switchCommand = input('switch-command');
  const keepPreviousRunning = parseBoolean('keep-previous-running', input('keep-previous-running'));
  const nginxReload = input('nginx-reload-command').trim();
  if (kind !== 'blue-green' && nginxReload !== '') throw new ConfigurationError("Input 'nginx-reload-command' is only used with 'strategy: blue-green'.");
  if (kind === 'recreate') {
    if (switchCommand !== '') throw new ConfigurationError("Input 'switch-command' is only used with 'strategy: blue-green'.");
    return undefined;
  }
  if (kind === 'rolling') {
    if (switchCommand !== '') throw new ConfigurationError("Input 'switch-command' is not used with 'strategy: rolling': the proxy finds the new containers by itself (Docker DNS or labels). Remove it, or use 'strategy: blue-green'.");
    if (keepPreviousRunning) throw new ConfigurationError("Input 'keep-previous-running' is only used with 'strategy: blue-green'; a rolling deploy removes the old containers once the new ones serve.");
    return { kind, services, switchCommand, keepPreviousRunning };
  }
  if (switchCommand.trim() === '') {
    // The built-in switch: deploy-kit writes nginx's upstream file and reloads nginx.
    return { kind, services, switchCommand: '', keepPreviousRunning, nginxReloadCommand: nginxReload || DEFAULT_NGINX_RELOAD };
  }
  if (nginxReload !== '') throw new ConfigurationError("Input 'nginx-reload-command' is only used by the built-in nginx switch, when 'switch-command' is empty; reload nginx in your switch-command instead.");
  return { kind, services, switchCommand, keepPreviousRunning };
}
