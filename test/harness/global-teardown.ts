import { currentSandbox, stopSandbox } from './sandbox';

export default async function globalTeardown(): Promise<void> {
  if (process.env.DEPLOY_KIT_SANDBOX) await stopSandbox(currentSandbox(), process.env.DEPLOY_KIT_KEEP_SANDBOX === '1');
}
