// Loaded by jest through require(), outside moduleNameMapper: hence the extensionless import.
import { join } from 'node:path';
import { startSandbox } from './sandbox';

/** Starts one sandbox (Docker engine, registry, sshd, test images) for the integration run. */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const info = await startSandbox();
  process.env.DEPLOY_KIT_SANDBOX = join(info.dir, 'sandbox.json');
  console.log(`\nsandbox ready in ${Date.now() - started}ms: ${info.dir} (sshd :${info.ssh.port}, registry ${info.registry})`);
}
