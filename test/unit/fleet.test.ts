import { describePlan, planDeploy, releaseProject } from '../../src/deploy/plan.js';
import { batches, parseParallel } from '../../src/fleet/batches.js';
import { combineGates } from '../../src/fleet/gate.js';
import { fleetSummary } from '../../src/fleet/summary.js';
import type { GateResult } from '../../src/health/types.js';
import { appLayout } from '../../src/release/layout.js';
import { shellLine } from '../../src/shell/quote.js';
import { parseHostList } from '../../src/ssh/settings.js';
import { deploySettings } from './deploy-settings-fixture.js';

describe('host lists', () => {
  test('commas or newlines, each entry with or without a port, IPv6 in brackets', () => {
    expect(parseHostList('web1, web2:2222\n10.0.0.7\n[2001:db8::1]:2200, fe80::1\n')).toEqual([
      { host: 'web1', port: undefined },
      { host: 'web2', port: 2222 },
      { host: '10.0.0.7', port: undefined },
      { host: '2001:db8::1', port: 2200 },
      { host: 'fe80::1', port: undefined },
    ]);
  });

  test('a bad entry or a repeated host is refused naming the input', () => {
    expect(() => parseHostList('')).toThrow(/^Input 'host' is required/);
    expect(() => parseHostList('web1, web1')).toThrow(/^Input 'host' must name each host once/);
    expect(() => parseHostList('web1:99999')).toThrow(/^Input 'host'/);
    expect(() => parseHostList('web1; touch /tmp/x')).toThrow(/^Input 'host' must be a host name or an IP address/);
    expect(() => parseHostList('-oProxyCommand=x')).toThrow(/^Input 'host'/);
    // The same name on two ports is two hosts (two sshd on one machine).
    expect(parseHostList('web1:22, web1:2222')).toHaveLength(2);
  });
});

describe('parallel', () => {
  test('a number, capped at the number of hosts, or a share rounded up; default one at a time', () => {
    expect(parseParallel('', 4)).toBe(1);
    expect(parseParallel('2', 4)).toBe(2);
    expect(parseParallel('9', 4)).toBe(4);
    expect(parseParallel('50%', 4)).toBe(2);
    expect(parseParallel('50%', 5)).toBe(3);
    expect(parseParallel('10%', 4)).toBe(1);
    expect(parseParallel('100%', 8)).toBe(8);
  });

  test('anything else is one clear error', () => {
    for (const bad of ['0', '-1', 'two', '0%', '101%', '1.5', '50 %%']) {
      expect(() => parseParallel(bad, 4)).toThrow(/^Input 'parallel' must be a number of hosts like '2' or a share like '50%'/);
    }
  });

  test('batches keep the order of the host list', () => {
    expect(batches(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(batches(['a', 'b'], 5)).toEqual([['a', 'b']]);
  });
});

describe('a host after the first pulls the digests the first one pinned', () => {
  const layout = appLayout('/srv/shop');
  const settings = deploySettings({ composeVersion: '3.8' });
  const images = { web: 'registry.example.com/shop@sha256:' + 'a'.repeat(64) };

  test('the override is written with the upload and the pull reads it, so tags are never resolved again', () => {
    const project = releaseProject({ variant: 'v2', name: 'shop' }, layout, '7', ['docker-compose.yml'], true);
    const phases = planDeploy(settings, { layout, releaseId: '7', previousId: '6', startedAt: 'now', project, pinnedImages: images });
    const upload = phases[0]!.steps.find((s) => s.kind === 'write' && s.path.endsWith('deploy-kit.images.yml'));
    expect(upload).toMatchObject({ kind: 'write', mode: 0o644 });
    expect(upload?.kind === 'write' && upload.content).toContain(`image: ${images.web}`);
    expect(upload?.kind === 'write' && upload.content).toContain('version: "3.8"');
    const pull = phases[1]!.steps.find((s) => s.kind === 'pin-images')!;
    // The pull alone: the images are known, so no `compose config` runs to find them.
    expect(pull.kind === 'pin-images' && shellLine(pull.command).text).toMatch(/-f \/srv\/shop\/releases\/7\/deploy-kit\.images\.yml .* pull --quiet$/);
    expect(pull.kind === 'pin-images' && shellLine(pull.command).text).not.toContain(' config');
    // The pinned file is named once in every later command, not twice.
    const start = describePlan(phases, settings).find((l) => l.includes(' up '))!;
    expect(start.match(/deploy-kit\.images\.yml/g)).toHaveLength(1);
  });

  test('the first host writes no override before its pull', () => {
    const project = releaseProject({ variant: 'v2', name: 'shop' }, layout, '7', ['docker-compose.yml'], false);
    const phases = planDeploy(settings, { layout, releaseId: '7', previousId: '6', startedAt: 'now', project });
    expect(phases[0]!.steps.some((s) => s.kind === 'write' && s.path.endsWith('deploy-kit.images.yml'))).toBe(false);
  });
});

const gate = (over: Partial<GateResult>): GateResult => ({ healthy: true, attempts: 3, successes: 3, p50Ms: 5, p95Ms: 9, reason: '', elapsedMs: 2000, rounds: [], ...over });

describe('the health gate over several hosts', () => {
  test('healthy only when every host is; the reason names the failing hosts', () => {
    const combined = combineGates([
      { host: 'web1', result: gate({}) },
      { host: 'web2', result: gate({ healthy: false, successes: 0, reason: 'HTTP 503 from /health', elapsedMs: 9000 }) },
      { host: 'web3', result: gate({ healthy: false, successes: 1, reason: 'connection refused' }) },
    ]);
    expect(combined).toMatchObject({ healthy: false, successes: 0, elapsedMs: 9000, reason: '2 of 3 hosts unhealthy (web2, web3); web2: HTTP 503 from /health' });
  });

  test('all healthy: the outputs describe the slowest host', () => {
    const combined = combineGates([{ host: 'web1', result: gate({ p95Ms: 12 }) }, { host: 'web2', result: gate({ p95Ms: 80 }) }]);
    expect(combined).toMatchObject({ healthy: true, p95Ms: 80, reason: '' });
  });
});

describe('the fleet job summary', () => {
  test('one row per host with its result, time, slowest phase and what the rollback did', () => {
    const text = fleetSummary(deploySettings(), {
      releaseId: '7',
      previousReleaseId: '6',
      status: 'rolled-back',
      images: { web: 'r/shop@sha256:1' },
      durationMs: 12_000,
      error: 'Release 7 (v2) failed on 1 of 3 hosts: web2: failed its health gate. Rolled back web1. Not started: web3.',
      parallel: 1,
      plan: [],
      hosts: [
        { host: 'web1', status: 'rolled-back', durationMs: 4000, error: undefined, rollback: 'rolled back to release 6 (v1)', phases: [{ name: 'Pull images', ms: 1500, ok: true }, { name: 'Health gate', ms: 2100, ok: true }] },
        { host: 'web2', status: 'rolled-back', durationMs: 6000, error: 'failed its health gate', rollback: undefined, phases: [] },
        { host: 'web3', status: 'not started', durationMs: 0, error: undefined, rollback: undefined, phases: [] },
      ],
    });
    expect(text).toContain('## ↩️ shop v2: rolled-back on 3 hosts');
    expect(text).toContain('> Release 7 (v2) failed on 1 of 3 hosts');
    expect(text).toContain('| `web1` | ↩️ rolled-back | 4s | Health gate (2.1s) | rolled back to release 6 (v1) |');
    expect(text).toContain('| `web2` | ↩️ rolled-back: failed its health gate | 6s | – | – |');
    expect(text).toContain('| `web3` | ⏸️ not started | – | – | – |');
    expect(text).toContain('| web | `r/shop@sha256:1` |');
  });
});
