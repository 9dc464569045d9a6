// Loaded by jest through require(), outside moduleNameMapper: hence the extensionless imports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pass } from './pass';
import { SandboxInfo, addPass, startSandbox } from './sandbox';

/**
 * Starts one sandbox (Docker engine, registry, sshd, test images) for the whole run, and gives
 * it the host `pass` needs. Jest runs each distinct globalSetup file once, in this one process:
 * each pass has a file of its own (global-setup-<pass>.ts), and whichever runs first starts the
 * sandbox the others then find.
 */
export async function setUpPass(pass: Pass): Promise<void> {
  const started = Date.now();
  let info: SandboxInfo;
  if (process.env.DEPLOY_KIT_SANDBOX) {
    info = JSON.parse(readFileSync(process.env.DEPLOY_KIT_SANDBOX, 'utf8')) as SandboxInfo;
  } else {
    info = await startSandbox();
    process.env.DEPLOY_KIT_SANDBOX = join(info.dir, 'sandbox.json');
    console.log(`\nsandbox ready in ${Date.now() - started}ms: ${info.dir} (sshd :${info.ssh.port}, registry ${info.registry})`);
  }
  if (pass !== 'default') {
    const endpoint = (await addPass(info, pass)).passes![pass]!;
    console.log(`sandbox host for the '${pass}' pass: ${endpoint.host}:${endpoint.port}${endpoint.latencyMs ? ` (+${endpoint.latencyMs} ms each way)` : ''}`);
  }
}

export default function globalSetup(): Promise<void> {
  return setUpPass('default');
}
