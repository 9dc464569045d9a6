import { describeResult, describeRound, displayUrl, roundFailure } from '../../src/health/words.js';

const A = 'http://127.0.0.1:8080/health';

describe('the gate findings in words', () => {
  test('a password in a URL is replaced, anything else left as written', () => {
    expect(displayUrl('https://probe:hunter22@shop.example.com/health')).toBe('https://probe:***@shop.example.com/health');
    expect(displayUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
  });

  test('a result in its cell', () => {
    expect(describeResult({ url: A, ok: true, status: 200, ms: 12 })).toBe('200 in 12ms');
    expect(describeResult({ url: A, ok: false, status: 404, ms: 3, error: `HTTP 404 from ${A}` })).toBe('HTTP 404 in 3ms');
    expect(describeResult({ url: A, ok: false, status: 200, ms: 3, error: 'body did not match /ok/' })).toBe('body did not match /ok/');
    expect(describeResult({ url: A, ok: false, error: 'timeout after 5s' })).toBe('timeout after 5s');
  });

  test('a round on one line, and its failure', () => {
    const round = {
      n: 4,
      ok: false,
      results: [
        { url: A, ok: true, status: 204, ms: 7 },
        { url: 'http://127.0.0.1:9090/', ok: false, error: 'connection refused' },
      ],
    };
    expect(describeRound(round, 0, 3)).toBe('round 4: FAIL (0/3 in a row): http://127.0.0.1:8080/health 204 in 7ms; http://127.0.0.1:9090/: connection refused');
    expect(roundFailure(round, true)).toBe('connection refused (http://127.0.0.1:9090/)');
    expect(roundFailure({ n: 1, ok: false, results: [{ url: A, ok: false, status: 500, ms: 1, error: `HTTP 500 from ${A}` }] }, true)).toBe(`HTTP 500 from ${A}`);
    expect(roundFailure({ n: 1, ok: true, results: [{ url: A, ok: true, status: 200, ms: 1 }] }, false)).toBe('');
  });
});
