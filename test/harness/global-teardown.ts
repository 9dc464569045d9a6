import { closeRelays, currentSandbox, stopSandbox } from './sandbox';

/** Stops the sandbox and the relays in front of it, once, after the last test. */
export default async function globalTeardown(): Promise<void> {
  if (!process.env.DEPLOY_KIT_SANDBOX) return;
  const sandbox = currentSandbox();
  delete process.env.DEPLOY_KIT_SANDBOX;
  await closeRelays();
  await stopSandbox(sandbox, process.env.DEPLOY_KIT_KEEP_SANDBOX === '1');
}
