import { spawnSync } from 'node:child_process';

// Projects:
// - `unit`: pure modules, in milliseconds;
// - `integration`: the committed dist bundles against real sshd (the `deploy` user, PAM on),
//   Docker with Compose v2, registry, PostgreSQL, s3rver and local Slack/GitHub API servers,
//   started by test/harness for the whole run; each file one action's behaviour, in about a
//   minute or less;
// - `e2e`: the same parts in whole stories, several minutes each: deploys under load behind a
//   proxy, a Swarm, a fleet, many deploys in a row, a run killed mid-deploy, the demo and the
//   bench as users run them;
// - `compose-v1` and `wan`: second passes of some integration files against the same sandbox,
//   on a host with only Compose v1 (where this machine has it) and behind a 50 ms round trip
//   (test/harness/pass.ts).
const tsJest = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: tsJest,
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
};
const integration = (name, files, pass = 'default') => ({
  ...common,
  displayName: name,
  testMatch: files.map((file) => `<rootDir>/test/integration/${file}`),
  globals: { deployKitPass: pass },
  globalSetup: `<rootDir>/test/harness/global-setup${pass === 'default' ? '' : `-${pass}`}.ts`,
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/harness/after-file.ts'],
});

const E2E = ['zero-downtime.test.ts', 'swarm.test.ts', 'fleet-deploy.test.ts', 'trust-soak.test.ts', 'trust-ssh-kill.test.ts', 'demo.test.ts', 'bench-quick.test.ts'];

const composeV1 = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' }).stdout?.startsWith('1.');

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...integration('integration', ['**/*.test.ts']), testPathIgnorePatterns: E2E.map((file) => `/test/integration/${file}$`) },
    integration('e2e', E2E),
    // zero-downtime.test.ts runs alone on the machine in either pass (test/harness/machine-hold.ts).
    ...(composeV1 ? [integration('compose-v1', ['deploy.test.ts', 'rollback.test.ts', 'backup.test.ts', 'zero-downtime.test.ts'], 'compose-v1')] : []),
    integration('wan', ['deploy.test.ts', 'rollback.test.ts', 'healthgate-ssh.test.ts', 'backup.test.ts'], 'wan'),
  ],
  maxWorkers: 2,
  // Integration tests deploy real containers; a per-test budget, not a speed target.
  testTimeout: 240000,
};
