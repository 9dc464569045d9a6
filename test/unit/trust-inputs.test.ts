import { readGateSettings } from '../../src/health/settings.js';
import { parseAppName, parseDeployPath, parseVersion } from '../../src/inputs/names.js';
import { acquireLock } from '../../src/release/lock.js';
import { encodeEnvValue, formatEnvFile, parseEnvInput } from '../../src/release/env-file.js';
import { quote } from '../../src/shell/quote.js';
import { parseHost, parseJumpHost } from '../../src/ssh/settings.js';

// The rules issue 10's hostile-input suite found missing, and the .env encoding that
// Compose v1 (python-dotenv) and v2 (compose-go) both read back exactly.

describe('.env values: one encoding both Compose v1 and v2 read back exactly', () => {
  test('plain words stay bare', () => {
    expect(encodeEnvValue('K', 'postgres://shop@db:5432/shop')).toBe('postgres://shop@db:5432/shop');
    expect(encodeEnvValue('K', '')).toBe('');
  });

  test('single quotes carry $, #, spaces, double quotes and newlines literally', () => {
    expect(encodeEnvValue('K', 'pa$$word $HOME # not a comment')).toBe("'pa$$word $HOME # not a comment'");
    expect(encodeEnvValue('K', '  say "hi"  ')).toBe(`'  say "hi"  '`);
    expect(encodeEnvValue('K', 'line one\nline two')).toBe("'line one\nline two'");
    expect(encodeEnvValue('K', 'C:\\path')).toBe("'C:\\path'");
  });

  test("double quotes, with only \\\\ \\\" \\n \\r escapes, carry single quotes, CR and backslash pairs", () => {
    expect(encodeEnvValue('K', `it's "x"`)).toBe(`"it's \\"x\\""`);
    expect(encodeEnvValue('K', "it's\nmulti")).toBe(`"it's\\nmulti"`);
    expect(encodeEnvValue('K', 'cr\r\nlf')).toBe('"cr\\r\\nlf"');
    expect(encodeEnvValue('K', 'a\\\\b')).toBe('"a\\\\\\\\b"');
  });

  test('what neither Compose can read back is refused, naming the key and the rule', () => {
    expect(() => encodeEnvValue('TOKEN', 'x${IFS}y')).toThrow("Input 'env': the value of TOKEN contains '${...}' (Compose v1 would expand it), which Compose v1 and v2 cannot both read back exactly from a .env file.");
    expect(() => encodeEnvValue('TOKEN', "it's $5")).toThrow(/^Input 'env': the value of TOKEN contains '\$' together with a single quote/);
    expect(() => encodeEnvValue('TOKEN', "it's a trailing \\")).toThrow(/^Input 'env': the value of TOKEN contains a backslash before a double quote or at its end/);
    expect(() => encodeEnvValue('TOKEN', 'nul\0byte')).toThrow(/NUL/);
    expect(() => parseEnvInput("A='x${HOME}'")).toThrow(/the value of A contains '\$\{\.\.\.\}'/);
  });

  test('a whole file', () => {
    expect(formatEnvFile({ VERSION: 'v1', A: "it's", B: 'a b' })).toBe(`VERSION=v1\nA="it's"\nB='a b'\n`);
  });
});

describe('names that reach the host', () => {
  test("deploy paths: '~user' is not the deploy user's home", () => {
    expect(parseDeployPath('~')).toBe('~');
    expect(() => parseDeployPath('~root')).toThrow(/^Input 'deploy-path' must be an absolute path or start with '~\/'/);
    expect(() => parseDeployPath('~root/apps')).toThrow(/Input 'deploy-path'/);
  });

  test('hosts: names of at most 253 characters, or real IP addresses', () => {
    expect(parseHost('host', 'deploy.example.com')).toBe('deploy.example.com');
    expect(parseHost('host', '10.0.0.7')).toBe('10.0.0.7');
    expect(parseHost('host', '[::1]')).toBe('::1');
    expect(parseHost('host', 'fe80::1')).toBe('fe80::1');
    expect(() => parseHost('host', 'a'.repeat(300))).toThrow(/^Input 'host' must be a host name or an IP address/);
    expect(() => parseHost('host', 'abc:def')).toThrow(/Input 'host'/);
    expect(() => parseHost('host', '[10.0.0.7]')).toThrow(/Input 'host'/);
    expect(() => parseHost('host', '-oProxyCommand=x')).toThrow(/Input 'host'/);
    expect(() => parseJumpHost('a'.repeat(300), { host: 'h', port: 22, username: 'u' })).toThrow(/Input 'proxy-jump'/);
  });

  test('NUL bytes (which no runner can pass, but a library caller could) never reach a shell', () => {
    expect(() => parseAppName('shop\0', '')).toThrow(/Input 'app'/);
    expect(() => parseVersion('v1\0')).toThrow(/Input 'version'/);
    expect(() => parseDeployPath('/srv\0/x')).toThrow(/Input 'deploy-path'/);
    expect(() => parseHost('host', 'h\0')).toThrow(/Input 'host'/);
    expect(() => quote('x\0')).toThrow(/NUL/);
  });
});

test("health headers: values Node's HTTP client would throw on mid-gate are refused up front", () => {
  const input = (values: Record<string, string>) => (name: string) => values[name] ?? '';
  const read = (headers: string) => readGateSettings(input({ url: 'http://127.0.0.1/', headers }), () => undefined, '');
  expect(read('Authorization: Bearer abc')?.headers).toEqual({ Authorization: 'Bearer abc' });
  expect(() => read('X-Name: \u0455hop')).toThrow("Input 'headers' values must be one line of printable ASCII or Latin-1 characters; the value on line 1 is not.");
  expect(() => read('X-Name: a\u200bb')).toThrow(/Input 'headers'/);
});

test('a lock that cannot be written is removed again, not left without an owner', () => {
  const line = acquireLock('/srv/app/.lock', { token: 't', run: 'r', actor: 'a', since: 's', operation: 'o' }).text;
  expect(line).toContain('then echo acquired; else rm -rf /srv/app/.lock; ');
  expect(line).toContain(`echo 'cannot write the deploy lock /srv/app/.lock'"$full" >&2; exit 1; fi;`);
});
