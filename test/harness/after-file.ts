import { afterAll, beforeAll, expect } from '@jest/globals';
import { join } from 'node:path';
import { removeFileProjects } from './app-fixture.js';
import { holdMachine } from './machine-hold.js';
import { currentSandbox } from './sandbox.js';

// Every integration test file holds the machine, shared or (a file that counts a proxy's
// dropped requests) alone, for as long as it runs (see machine-hold.ts): waiting may take as
// long as the longest other file.
let release: (() => void) | undefined;
beforeAll(async () => {
  release = await holdMachine(join(currentSandbox().dir, 'machine-hold'), expect.getState().testPath!);
}, 30 * 60_000);

// Every integration test file ends by removing the containers it started (see removeFileProjects),
// then gives the machine back.
afterAll(() => {
  try {
    removeFileProjects(currentSandbox());
  } finally {
    release?.();
  }
});
