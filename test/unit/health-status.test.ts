import { parseStatusSpec } from '../../src/health/status.js';

describe('expect-status specs', () => {
  const passing = (spec: string) => [100, 199, 200, 204, 299, 301, 399, 400, 404, 500, 503].filter(parseStatusSpec('expect-status', spec));

  test('a range, one status, a class, and lists of those', () => {
    expect(passing('200-399')).toEqual([200, 204, 299, 301, 399]);
    expect(passing('200')).toEqual([200]);
    expect(passing('2xx')).toEqual([200, 204, 299]);
    expect(passing('2XX')).toEqual([200, 204, 299]);
    expect(passing('200, 204,404')).toEqual([200, 204, 404]);
    expect(passing('2xx,5xx')).toEqual([200, 204, 299, 500, 503]);
    expect(passing('100-199,301')).toEqual([100, 199, 301]);
  });

  test('anything else is refused naming the input', () => {
    const expected = "Input 'health-expect-status' must be statuses like '200-399', '200', '2xx' or a comma-separated list of those; got";
    for (const bad of ['', 'ok', '20', '2000', '399-200', '6xx', '200;204', '200-', '2xx-3xx']) {
      expect(() => parseStatusSpec('health-expect-status', bad)).toThrow(expected);
    }
  });
});
