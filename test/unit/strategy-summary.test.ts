import type { DeployResult } from '../../src/deploy/result.js';
import { deploySummary } from '../../src/deploy/summary.js';

const settings = { app: 'shop', version: 'v2', ssh: { host: 'web1' } } as Parameters<typeof deploySummary>[0];
const result = (over: Partial<DeployResult>): DeployResult => ({
  releaseId: '7', previousReleaseId: '6', status: 'deployed', images: {}, durationMs: 30_000, error: undefined, gate: undefined, plan: [], ...over,
});

describe('deploy summary and strategy', () => {
  test('blue-green states the strategy and how long old and new overlapped', () => {
    expect(deploySummary(settings, result({ strategy: 'blue-green', overlapMs: 12_340 }), [])).toContain('| Strategy | blue-green; old and new ran side by side for 12.3s |');
  });

  test('a blue-green deploy that never moved traffic states the strategy without an overlap', () => {
    const text = deploySummary(settings, result({ status: 'failed', strategy: 'blue-green' }), []);
    expect(text).toContain('| Strategy | blue-green |');
  });

  test('recreate summaries are as they were', () => {
    expect(deploySummary(settings, result({ strategy: 'recreate' }), [])).toBe(deploySummary(settings, result({}), []));
    expect(deploySummary(settings, result({}), [])).not.toContain('Strategy');
  });
});
