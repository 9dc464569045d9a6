import '../../src/actions/esm-globals.js';
import { run } from './main.js';

await run();
