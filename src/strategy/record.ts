import type { Color, StrategyRecord, StrategySettings } from './types.js';
import { otherColor } from './colors.js';

/** What release.json records of a blue-green deploy; nothing for recreate (records stay as they were). */
export function strategyRecord(strategy: StrategySettings | undefined, activeColor: Color | undefined): StrategyRecord {
  if (strategy?.kind !== 'blue-green') return {};
  return {
    strategy: 'blue-green',
    color: otherColor(activeColor),
    switchCommand: strategy.switchCommand,
    services: strategy.services,
    keepPreviousRunning: strategy.keepPreviousRunning,
  };
}
