import type { Color, StrategyRecord, StrategySettings } from './types.js';
import { otherColor } from './colors.js';

/**
 * What release.json records of a blue-green or rolling deploy (for rolling, the services it
 * rolled, resolved); nothing for recreate (records stay as they were).
 */
export function strategyRecord(strategy: StrategySettings | undefined, activeColor: Color | undefined, rolled?: readonly string[]): StrategyRecord {
  if (strategy?.kind === 'rolling') return { strategy: 'rolling', services: rolled ?? strategy.services };
  if (strategy?.kind !== 'blue-green') return {};
  return {
    strategy: 'blue-green',
    color: otherColor(activeColor),
    switchCommand: strategy.switchCommand,
    services: strategy.services,
    keepPreviousRunning: strategy.keepPreviousRunning,
    ...(strategy.nginxReloadCommand !== undefined ? { nginxReloadCommand: strategy.nginxReloadCommand } : {}),
  };
}
