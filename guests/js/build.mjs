// Builds src/guest.js into a component with componentize-js's library API.
// Usage: node build.mjs <output.wasm>  (guests/build.sh runs it)
import { writeFile } from 'node:fs/promises';
import { componentize } from '@bytecodealliance/componentize-js';

const output = process.argv[2];
if (!output) throw new Error('usage: node build.mjs <output.wasm>');
const { component } = await componentize({
  sourcePath: 'src/guest.js',
  witPath: 'wit',
  worldName: 'js',
  // No WASI imports: a pure component.
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
await writeFile(output, component);
