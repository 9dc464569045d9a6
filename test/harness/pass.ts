/**
 * Which kind of host a test run talks to. The integration files run once against the default
 * host (Compose v2, the `deploy` user, loopback), and some of them again as a second pass:
 * - `compose-v1`: a host with only Compose v1 (`docker-compose`), still found on Debian 12;
 * - `wan`: the default host behind a relay that adds 25 ms each way (a 50 ms round trip).
 * A pass is set per jest project (`globals.deployKitPass`, see jest.config.js), or by the
 * DEPLOY_KIT_PASS variable for the demo and the bench.
 */
export type Pass = 'default' | 'compose-v1' | 'wan';

export const PASSES: readonly Pass[] = ['default', 'compose-v1', 'wan'];

/** One way of the `wan` pass's latency: a round trip costs twice this. */
export const WAN_ONE_WAY_MS = 25;

export function currentPass(): Pass {
  const given = (globalThis as { deployKitPass?: string }).deployKitPass ?? process.env.DEPLOY_KIT_PASS ?? 'default';
  if (!(PASSES as readonly string[]).includes(given)) throw new Error(`Unknown test pass '${given}' (one of ${PASSES.join(', ')})`);
  return given as Pass;
}

/** Added to app names in a second pass, so that both passes can share one Docker engine at once. */
export function passSuffix(pass: Pass = currentPass()): string {
  return pass === 'default' ? '' : pass === 'compose-v1' ? '-v1' : '-wan';
}
