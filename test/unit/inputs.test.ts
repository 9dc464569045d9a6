import { parseDeployPath, parseAppName, parseVersion } from '../../src/inputs/names.js';
import { formatDuration, parseBoolean, parseDuration, parseInteger, parseList } from '../../src/inputs/parse.js';
import { formatEnvFile, parseEnvInput } from '../../src/release/env-file.js';
import { defaultAppName } from '../../src/github/context.js';

describe('input parsers name the input and what was expected', () => {
  test('durations', () => {
    expect(parseDuration('t', '30s')).toBe(30_000);
    expect(parseDuration('t', '1m30s')).toBe(90_000);
    expect(parseDuration('t', '500ms')).toBe(500);
    expect(parseDuration('t', '2')).toBe(2000);
    expect(parseDuration('t', '', '2m')).toBe(120_000);
    expect(() => parseDuration('wait-timeout', '2 minutes')).toThrow("Input 'wait-timeout' must be a duration like '30s', '2m', '1m30s' or '500ms'; got '2 minutes'.");
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(120_000)).toBe('2m');
  });
  test('booleans, integers, lists', () => {
    expect(parseBoolean('b', 'TRUE')).toBe(true);
    expect(() => parseBoolean('dry-run', 'maybe')).toThrow("Input 'dry-run' must be true or false; got 'maybe'.");
    expect(parseInteger('n', '', { min: 1, max: 9 }, 5)).toBe(5);
    expect(() => parseInteger('keep-releases', '-1', { min: 1, max: 100 })).toThrow(/whole number from 1 to 100; got '-1'/);
    expect(parseList('a.yml, b.yml\n\nc.yml')).toEqual(['a.yml', 'b.yml', 'c.yml']);
  });
  test('names that reach the host', () => {
    expect(parseAppName('', 'shop')).toBe('shop');
    expect(() => parseAppName('Shop', '')).toThrow(/lowercase/);
    expect(() => parseAppName('-rf', '')).toThrow(/Input 'app'/);
    expect(parseVersion('1.2.3-rc.1')).toBe('1.2.3-rc.1');
    expect(() => parseVersion('v1 && id')).toThrow("Input 'version' must be an image tag: letters, digits, _ . -, not starting with . or - (at most 128); got 'v1 && id'.");
    expect(() => parseVersion('-v')).toThrow(/Input 'version'/);
    expect(parseDeployPath('~/apps/shop')).toBe('~/apps/shop');
    expect(() => parseDeployPath('/srv/../etc')).toThrow(/without '\.\.'/);
    expect(() => parseDeployPath('apps/shop')).toThrow(/Input 'deploy-path'/);
    expect(() => parseDeployPath('/srv/-rf')).toThrow(/Input 'deploy-path'/);
    expect(defaultAppName({ GITHUB_REPOSITORY: 'Acme/My.Web-App' })).toBe('my-web-app');
  });
  test('env input: dotenv in, exact values out', () => {
    const values = parseEnvInput('A=plain\nB="two words"\n# comment\nC=\'single $HOME\'\nexport D=x');
    expect(values).toEqual({ A: 'plain', B: 'two words', C: 'single $HOME', D: 'x' });
    expect(formatEnvFile(values)).toBe("A=plain\nB='two words'\nC='single $HOME'\nD=x\n");
    expect(() => parseEnvInput('A=1\nBAD-KEY=x')).toThrow("Input 'env' must have keys of letters, digits and _, not starting with a digit; the key on line 2 is not one.");
    expect(() => parseEnvInput('VERSION=x')).toThrow(/must not set VERSION/);
  });
});
