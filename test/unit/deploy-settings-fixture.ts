import type { ComposeDeploySettings, SwarmDeploySettings } from '../../src/deploy/settings.js';

/** A deploy's settings as a test starts from them: one host, one compose file, no gate. */
export const deploySettings = (over: Partial<ComposeDeploySettings> = {}): ComposeDeploySettings => ({
  target: 'compose',
  ssh: { host: 'web1', port: 22, username: 'deploy', privateKey: 'k', passphrase: '', hostKeys: { knownHosts: [], fingerprints: [], insecureIgnore: true, fingerprintInput: 'host-fingerprint' }, proxyJump: undefined, connectTimeoutMs: 30_000 },
  app: 'shop',
  version: 'v2',
  composeFiles: [{ name: 'docker-compose.yml', content: 'services: {}' }],
  composeVersion: undefined,
  env: {},
  deployPath: '~/deploy-kit/shop',
  registry: undefined,
  preDeploy: '',
  postDeploy: '',
  waitTimeoutMs: 120_000,
  keepReleases: 5,
  lock: { timeoutMs: 0, staleAfterMs: 600_000, breakStale: false },
  gate: undefined,
  rollbackOnFailure: true,
  failureLogLines: 100,
  dryRun: false,
  run: { actor: 'ann', commit: 'abc', runUrl: 'https://github.com/acme/shop/actions/runs/1' },
  ...over,
});

/** The same for `target: swarm`. */
export const swarmSettings = (over: Partial<SwarmDeploySettings> = {}): SwarmDeploySettings => ({ ...deploySettings(), target: 'swarm', ...over });
