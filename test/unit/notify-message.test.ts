import { describe, expect, test } from '@jest/globals';
import { type MessageFacts, buildMessage, formatElapsed, slackMention, title } from '../../src/notify/message.js';

const RUN_URL = 'https://github.com/acme/shop/actions/runs/4242';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

const facts = (over: Partial<MessageFacts> = {}): MessageFacts => ({
  status: 'success',
  app: 'shop',
  environment: 'production',
  version: '1.4.2',
  environmentUrl: 'https://shop.example.com',
  text: '',
  mention: '',
  actor: 'octocat',
  commit: COMMIT,
  commitUrl: `https://github.com/acme/shop/commit/${COMMIT}`,
  runUrl: RUN_URL,
  ...over,
});

describe('buildMessage', () => {
  test('success: header, sentence, facts as fields in a green bar, and link buttons', () => {
    expect(buildMessage(facts({ durationMs: 125_000, approvedBy: [{ name: '@bob', url: 'https://github.com/bob' }] }))).toEqual({
      text: '✅ Deployed shop 1.4.2 to production.',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '✅ shop 1.4.2 -> production', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: 'Deployed *shop* `1.4.2` to *production*.' } },
      ],
      attachments: [
        {
          color: '#2EB67D',
          blocks: [
            {
              type: 'section',
              fields: [
                { type: 'mrkdwn', text: '*Environment*\nproduction' },
                { type: 'mrkdwn', text: '*Version*\n`1.4.2`' },
                { type: 'mrkdwn', text: `*Commit*\n<https://github.com/acme/shop/commit/${COMMIT}|0123456>` },
                { type: 'mrkdwn', text: '*Actor*\noctocat' },
                { type: 'mrkdwn', text: '*Duration*\n2m 5s' },
                { type: 'mrkdwn', text: '*Approved by*\n<https://github.com/bob|@bob>' },
              ],
            },
            {
              type: 'actions',
              elements: [
                { type: 'button', action_id: 'workflow-run', text: { type: 'plain_text', text: 'Workflow run' }, url: RUN_URL },
                { type: 'button', action_id: 'environment-url', text: { type: 'plain_text', text: 'Open app' }, url: 'https://shop.example.com' },
              ],
            },
          ],
        },
      ],
    });
  });

  test.each([
    ['started', '🚀', '#1D9BD1', 'Deploying shop 1.4.2 to production.'],
    ['failure', '❌', '#E01E5A', 'Deploy of shop 1.4.2 to production failed.'],
    ['rolled-back', '↩️', '#E8912D', 'shop 1.4.2 on production was rolled back.'],
    ['info', 'ℹ️', '#868686', 'shop 1.4.2 on production.'],
  ] as const)('%s: %s, colour %s, "%s"', (status, emoji, color, sentence) => {
    const message = buildMessage(facts({ status }));
    expect(message.text).toBe(`${emoji} ${sentence}`);
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: `${emoji} shop 1.4.2 -> production`, emoji: true } });
    expect(message.attachments[0]!.color).toBe(color);
  });

  test('the mention comes first, in Slack syntax, on failure and rolled-back only', () => {
    const failed = buildMessage(facts({ status: 'failure', mention: '@here, <!subteam^S0SRE>' }));
    expect(failed.text).toBe('<!here> <!subteam^S0SRE> ❌ Deploy of shop 1.4.2 to production failed.');
    expect(failed.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '<!here> <!subteam^S0SRE> Deploy of *shop* `1.4.2` to *production* failed.' } });
    expect(buildMessage(facts({ status: 'rolled-back', mention: '@channel' })).text).toBe('<!channel> ↩️ shop 1.4.2 on production was rolled back.');
    expect(buildMessage(facts({ status: 'success', mention: '@here' })).text).toBe('✅ Deployed shop 1.4.2 to production.');
  });

  test('approval-needed names who can approve and offers the review as the one button', () => {
    const message = buildMessage(
      facts({
        status: 'approval-needed',
        environmentUrl: '',
        reviewers: [
          { name: '@alice', url: 'https://github.com/alice' },
          { name: '@acme/sre', url: 'https://github.com/orgs/acme/teams/sre' },
        ],
      }),
    );
    expect(message.text).toBe('⏳ shop 1.4.2 is waiting for approval to deploy to production. Can approve: @alice, @acme/sre.');
    expect(message.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*shop* `1.4.2` is waiting for approval to deploy to *production*.' } });
    expect(message.attachments[0]).toEqual({
      color: '#ECB22E',
      blocks: [
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Environment*\nproduction' },
            { type: 'mrkdwn', text: '*Version*\n`1.4.2`' },
            { type: 'mrkdwn', text: `*Commit*\n<https://github.com/acme/shop/commit/${COMMIT}|0123456>` },
            { type: 'mrkdwn', text: '*Actor*\noctocat' },
            { type: 'mrkdwn', text: '*Can approve*\n<https://github.com/alice|@alice>, <https://github.com/orgs/acme/teams/sre|@acme/sre>' },
          ],
        },
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'review-deployment', text: { type: 'plain_text', text: 'Review deployment' }, url: RUN_URL, style: 'primary' }],
        },
      ],
    });
  });

  test('approval-needed without known reviewers links to the run page instead', () => {
    const message = buildMessage(facts({ status: 'approval-needed' }));
    expect(message.text).toBe('⏳ shop 1.4.2 is waiting for approval to deploy to production.');
    const fields = message.attachments[0]!.blocks[0]!.type === 'section' ? message.attachments[0]!.blocks[0]!.fields : undefined;
    expect(fields?.at(-1)).toEqual({ type: 'mrkdwn', text: `*Can approve*\n<${RUN_URL}|See the workflow run>` });
  });

  test('`text` replaces the generated sentence, the header stays', () => {
    const message = buildMessage(facts({ status: 'info', text: 'Cache warmed in <https://grafana.example.com|2.1s>.' }));
    expect(message.text).toBe('ℹ️ Cache warmed in <https://grafana.example.com|2.1s>.');
    expect(message.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: 'ℹ️ shop 1.4.2 -> production', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: 'Cache warmed in <https://grafana.example.com|2.1s>.' } },
    ]);
  });

  test('leaves out what is not known, and the colour bar when nothing is left for it', () => {
    const message = buildMessage(facts({ version: '', environment: '', environmentUrl: '', actor: '', commit: '', commitUrl: '', runUrl: '' }));
    expect(message).toEqual({
      text: '✅ Deployed shop.',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '✅ shop', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: 'Deployed *shop*.' } },
      ],
      attachments: [],
    });
  });

  test("escapes Slack's <, > and & in names, and keeps the header within Slack's 150 characters", () => {
    const message = buildMessage(facts({ app: 'a<b>&c', version: 'x'.repeat(200), environmentUrl: '' }));
    expect(message.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: `Deployed *a&lt;b&gt;&amp;c* \`${'x'.repeat(200)}\` to *production*.` } });
    const header = (message.blocks[0] as { text: { text: string } }).text.text;
    expect([...header]).toHaveLength(150);
    expect(header.endsWith('…')).toBe(true);
  });
});

describe('title', () => {
  test.each([
    [{ app: 'shop', version: '1.4.2', environment: 'production' }, 'shop 1.4.2 -> production'],
    [{ app: 'shop', version: '', environment: 'production' }, 'shop -> production'],
    [{ app: 'shop', version: '1.4.2', environment: '' }, 'shop 1.4.2'],
    [{ app: '', version: '', environment: 'staging' }, 'staging'],
    [{ app: '', version: '', environment: '' }, 'deploy'],
  ])('%j -> %s', (parts, expected) => {
    expect(title(parts)).toBe(expected);
  });
});

describe('slackMention', () => {
  test.each([
    ['@here', '<!here>'],
    ['@Channel', '<!channel>'],
    ['@everyone <@U0ALICE>', '<!everyone> <@U0ALICE>'],
    ['<!subteam^S0SRE>,  @here', '<!subteam^S0SRE> <!here>'],
    ['', ''],
  ])('%s -> %s', (raw, expected) => {
    expect(slackMention(raw)).toBe(expected);
  });
});

describe('formatElapsed', () => {
  test.each([
    [400, '0s'],
    [45_000, '45s'],
    [120_000, '2m'],
    [125_400, '2m 5s'],
    [3_600_000, '1h'],
    [3_720_000, '1h 2m'],
  ])('%d ms -> %s', (ms, expected) => {
    expect(formatElapsed(ms)).toBe(expected);
  });
});
