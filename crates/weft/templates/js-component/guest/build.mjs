// Builds src/guest.js into a WebAssembly component with componentize-js's library API
// (its `jco componentize` CLI is not needed). Usage: node build.mjs <output.wasm>
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { componentize } from '@bytecodealliance/componentize-js';

const output = process.argv[2] ?? '../wasm/guest.wasm';
const { component } = await componentize({
  sourcePath: 'src/guest.js',
  witPath: 'wit',
  worldName: 'guest',
  // A pure component: no WASI imports, so the entry needs no `imports:`. Keep a feature
  // (and add its WASI profile to the entry's imports) to use it: `clocks` for Date.now(),
  // `random` for Math.random(), `stdio` for console.log, `http` for fetch().
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
await mkdir(dirname(output), { recursive: true });
await writeFile(output, component);
console.log(`wrote ${output} (${component.length} bytes)`);
