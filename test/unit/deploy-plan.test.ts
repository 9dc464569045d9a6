import { describePlan, planDeploy, releaseProject } from '../../src/deploy/plan.js';
import type { ComposeDeploySettings } from '../../src/deploy/settings.js';
import { deploySettings } from './deploy-settings-fixture.js';
import { appLayout } from '../../src/release/layout.js';
import { constant, shellLine, toCompletion } from '../../src/shell/quote.js';

const settings = (over: Partial<ComposeDeploySettings> = {}): ComposeDeploySettings =>
  deploySettings({
    composeFiles: [{ name: 'docker-compose.yml', content: 'services: {}' }, { name: 'docker-compose.prod.yml', content: 'services: {}' }],
    env: { SECRET: 'hunter2 two' },
    ...over,
  });

const layout = appLayout('/home/deploy/deploy-kit/shop');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const target = (s: ComposeDeploySettings) => ({
  layout,
  releaseId: '7',
  previousId: '6',
  startedAt: '2026-11-25T10:00:00Z',
  project: releaseProject({ variant: 'v2', name: 'shop' }, layout, '7', s.composeFiles.map((f) => f.name), false),
});

const commands = (s: ComposeDeploySettings) =>
  planDeploy(s, target(s)).flatMap((phase) =>
    phase.steps.flatMap((st) =>
      st.kind === 'run' || st.kind === 'pin-images' || st.kind === 'switch-current' ? [shellLine(st.command).text] : st.kind === 'wait-containers' && st.start ? [shellLine(st.start).text] : [],
    ),
  );

describe('deploy plan', () => {
  test('phases run in the documented order', () => {
    const s = settings({ preDeploy: 'migrate', postDeploy: 'notify', gate: { urls: ['http://x'] } as never });
    expect(planDeploy(s, target(s)).map((p) => p.name)).toEqual([
      'Upload release 7',
      'Pull images',
      'Pre-deploy',
      'Start containers',
      'Health gate',
      'Switch current to release 7',
      'Post-deploy',
      'Prune old releases',
    ]);
  });

  test('builds exact commands: compose files in order, pinned images for up, atomic switch', () => {
    const dir = '/home/deploy/deploy-kit/shop/releases/7';
    const compose = `docker compose --project-name shop --project-directory ${dir} -f ${dir}/docker-compose.yml -f ${dir}/docker-compose.prod.yml`;
    expect(commands(settings())).toEqual([
      expect.stringMatching(
        new RegExp(
          `^mkdir -p /home/deploy/deploy-kit/shop/releases && mkdir -m 0750 ${dir} && ` +
            `printf '%s\\\\n' '\\{"release":"7","event":"started",.*"reason":"replacing 6"\\}' >> /home/deploy/deploy-kit/shop/ledger.jsonl$`,
        ),
      ),
      // The rendered config follows a marker whose nonce is drawn for this one line (src/shell/sections.ts).
      expect.stringMatching(
        new RegExp(
          `^${escape(`{ ${compose} --env-file ${dir}/.env pull --quiet; } >&2 & pulling=$!; printf '\\n%s\\n' `)}@@deploy-kit-[0-9a-f]{24}@@config; ` +
            `${escape(`${compose} --env-file ${dir}/.env config; rendered=$?; wait $pulling && exit $rendered`)}$`,
        ),
      ),
      // Run to its end even if the connection drops (a half-done `up` leaves nothing serving).
      toCompletion(constant(`${compose} -f ${dir}/deploy-kit.images.yml --env-file ${dir}/.env up --detach --remove-orphans`)).text,
      'ln -sfn releases/7 /home/deploy/deploy-kit/shop/current.next && mv -T /home/deploy/deploy-kit/shop/current.next /home/deploy/deploy-kit/shop/current',
    ]);
  });

  test('.env is written 0600 over SFTP and its values are never on a command line', () => {
    const s = settings();
    const writes = planDeploy(s, target(s)).flatMap((p) => p.steps).filter((st) => st.kind === 'write');
    expect(writes.find((w) => w.kind === 'write' && w.path.endsWith('/.env'))).toMatchObject({ mode: 0o600, secret: true, content: "VERSION=v2\nSECRET='hunter2 two'\n" });
    expect(commands(s).join('\n')).not.toContain('hunter2');
    expect(describePlan(planDeploy(s, target(s)), s).join('\n')).not.toContain('hunter2');
  });

  test('registry login reads the password from stdin and the credentials are removed even on failure', () => {
    const s = settings({ registry: { server: 'ghcr.io', username: 'bot', password: 'ghp_secret' } });
    const pull = planDeploy(s, target(s))[1]!;
    const dir = '/home/deploy/deploy-kit/shop/releases/7/.docker';
    expect(pull.steps[1]).toEqual({ kind: 'run', command: { text: `DOCKER_CONFIG=${dir} docker login --username bot --password-stdin -- ghcr.io` }, stdin: 'ghp_secret' });
    expect(pull.steps[3]).toEqual({ kind: 'run', command: ['rm', '-rf', dir], always: true });
    expect(commands(s).join('\n')).not.toContain('ghp_secret');
  });

  test('hooks run in the release folder with the release as the default compose project', () => {
    const s = settings({ preDeploy: "docker compose run --rm web migrate --name 'x'" });
    const dir = '/home/deploy/deploy-kit/shop/releases/7';
    expect(commands(s)[2]).toBe(
      `cd ${dir} && COMPOSE_PROJECT_NAME=shop COMPOSE_FILE=${dir}/docker-compose.yml:${dir}/docker-compose.prod.yml:${dir}/deploy-kit.images.yml RELEASE_ID=7 VERSION=v2 RELEASE_DIR=${dir} sh -c 'docker compose run --rm web migrate --name '\\''x'\\'''`,
    );
  });

  test('Compose v1 uses docker-compose with the same flags', () => {
    const s = settings();
    const t = { ...target(s), project: { ...target(s).project, variant: 'v1' as const } };
    const pull = planDeploy(s, t)[1]!.steps[0]!;
    expect(pull.kind === 'pin-images' && shellLine(pull.command).text).toMatch(/^\{ docker-compose --project-name shop .* pull --quiet; \} >&2 & .*; docker-compose --project-name shop .* config; /);
  });
});
