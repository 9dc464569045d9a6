import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// The bundle is an ES module, which has no `__dirname`; ssh2's bundled WebAssembly loader
// (emscripten) reads it while loading. Imported first by index.ts, before anything else runs.
(globalThis as { __dirname?: string }).__dirname ??= dirname(fileURLToPath(import.meta.url));
