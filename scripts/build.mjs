// Bundles every action's src/index.ts into its committed dist/index.js with @vercel/ncc.
// `node scripts/build.mjs action-deploy` builds just one.
import { mkdirSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import ncc from '@vercel/ncc';

const root = new URL('..', import.meta.url).pathname;
// `--out DIR` writes DIR/<action>/index.js instead, to compare with the committed bundles.
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outRoot = outIndex === -1 ? undefined : args.splice(outIndex, 2)[1];
const wanted = args;
const actions = readdirSync(root).filter((d) => d.startsWith('action-') && existsSync(join(root, d, 'src', 'index.ts')) && (wanted.length === 0 || wanted.includes(d)));

for (const action of actions) {
  const started = Date.now();
  const { code, assets } = await ncc(join(root, action, 'src', 'index.ts'), {
    minify: false,
    sourceMap: false,
    quiet: true,
    target: 'es2023',
    transpileOnly: true,
    license: 'licenses.txt',
    // ssh2 loads these optional native addons inside try/catch and falls back to pure
    // JavaScript. Leaving them out keeps every bundle pure JS: the same bytes whatever the
    // build machine compiled, and nothing built against another Node ABI or libc.
    externals: ['cpu-features', './crypto/build/Release/sshcrypto.node'],
  });
  const dist = outRoot ? join(outRoot, action) : join(root, action, 'dist');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  writeFileSync(join(dist, 'index.js'), code);
  for (const [name, asset] of Object.entries(assets ?? {})) {
    // ssh2 ships pagent.exe for Pageant, the Windows SSH agent; deploy-kit never uses an SSH
    // agent (the key is an input), so a Windows binary has no place in a Linux deploy bundle.
    if (name.endsWith('pagent.exe')) continue;
    mkdirSync(join(dist, name, '..'), { recursive: true });
    writeFileSync(join(dist, name), asset.source);
  }
  console.log(`${action}: dist/index.js ${(code.length / 1024).toFixed(0)} KiB, ${Object.keys(assets ?? {}).length} assets, ${Date.now() - started} ms`);
}
