// The deploy-kit sample app: a tiny HTTP service with the endpoints a deploy needs.
//   GET /        -> a greeting naming the version
//   GET /health  -> 200 {"status":"ok","version":...}, or 503 when built with APP_HEALTHY=false
//                   (the end-to-end workflow builds such a "broken" image to prove the rollback)
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

export function settingsFromEnv(env = process.env) {
  return {
    version: env.APP_VERSION || 'dev',
    healthy: env.APP_HEALTHY !== 'false',
    port: Number(env.PORT || 3000),
  };
}

/** Answers one request: pure, so the tests need no socket. */
export function respond(method, path, settings) {
  const json = (status, body) => ({ status, type: 'application/json', body: JSON.stringify(body) });
  if (method !== 'GET' && method !== 'HEAD') return json(405, { error: 'method not allowed' });
  if (path === '/health') {
    return settings.healthy
      ? json(200, { status: 'ok', version: settings.version })
      : json(503, { status: 'broken', version: settings.version });
  }
  if (path === '/') {
    return { status: 200, type: 'text/plain; charset=utf-8', body: `Hello from the deploy-kit example app, version ${settings.version}\n` };
  }
  return json(404, { error: 'not found' });
}

export function startServer(settings) {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const answer = respond(req.method ?? 'GET', path, settings);
    res.writeHead(answer.status, { 'content-type': answer.type, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  });
  server.listen(settings.port, '0.0.0.0');
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const settings = settingsFromEnv();
  const server = startServer(settings);
  console.log(`example app ${settings.version} listening on :${settings.port}${settings.healthy ? '' : ' (built broken: /health answers 503)'}`);
  // Compose stops containers with SIGTERM: finish the requests in flight, then exit.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => server.close(() => process.exit(0)));
  }
}
