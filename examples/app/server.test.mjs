// Run with `node --test` (what examples/workflows/ci.yml does on pull requests).
import assert from 'node:assert/strict';
import test from 'node:test';
import { respond, settingsFromEnv, startServer } from './server.mjs';

test('health answers 200 with the version', () => {
  const answer = respond('GET', '/health', { version: 'v1', healthy: true, port: 0 });
  assert.equal(answer.status, 200);
  assert.deepEqual(JSON.parse(answer.body), { status: 'ok', version: 'v1' });
});

test('an image built with APP_HEALTHY=false fails its health check', () => {
  const settings = settingsFromEnv({ APP_VERSION: 'v3', APP_HEALTHY: 'false' });
  assert.equal(respond('GET', '/health', settings).status, 503);
});

test('unknown paths are 404 and writes are refused', () => {
  const settings = settingsFromEnv({});
  assert.equal(settings.version, 'dev');
  assert.equal(respond('GET', '/nope', settings).status, 404);
  assert.equal(respond('POST', '/', settings).status, 405);
});

test('the server answers over HTTP', async () => {
  const server = startServer({ version: 'v9', healthy: true, port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address();
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).version, 'v9');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
