import { afterAll } from '@jest/globals';
import { removeFileProjects } from './app-fixture.js';
import { currentSandbox } from './sandbox.js';

// Every integration test file ends by removing the containers it started (see removeFileProjects).
afterAll(() => removeFileProjects(currentSandbox()));
