import { ShellLine, inDirectory, userScript, withEnv } from '../shell/quote.js';
import type { PublishedAddress } from './addresses.js';
import { Color } from './types.js';

/**
 * The user's `switch-command`, run on the host in the release folder with the colour that
 * should get traffic in its environment:
 *   DEPLOY_KIT_COLOR      blue | green
 *   DEPLOY_KIT_PROJECT    <app>-<color>
 *   DEPLOY_KIT_ADDRESS    host:port of the first traffic service's first published port
 *   DEPLOY_KIT_ADDRESSES  every such host:port, space separated
 *   DEPLOY_KIT_SERVICE_<NAME>  host:port per service (name upper-cased, non-alphanumerics as _)
 */
export function switchEnvironment(color: Color, project: string, addresses: readonly PublishedAddress[]): Record<string, string> {
  const env: Record<string, string> = {
    DEPLOY_KIT_COLOR: color,
    DEPLOY_KIT_PROJECT: project,
    DEPLOY_KIT_ADDRESS: addresses[0]?.address ?? '',
    DEPLOY_KIT_ADDRESSES: addresses.map((a) => a.address).join(' '),
  };
  for (const a of addresses) {
    const name = `DEPLOY_KIT_SERVICE_${a.service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    env[name] ??= a.address;
  }
  return env;
}

export function switchTraffic(directory: string, script: string, env: Readonly<Record<string, string>>): ShellLine {
  return inDirectory(directory, withEnv(env, userScript(script)));
}
