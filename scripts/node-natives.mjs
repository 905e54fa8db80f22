// Runs before `npm test`: the native modules (better-sqlite3, keytar) must be built for this Node. `npm start`
// and `npm run dist` rebuild them in place for Electron (electron-builder install-app-deps), after which plain
// Node cannot load them; this rebuilds those for Node again (`npm run rebuild:node`) and says so. Modules
// that load, or fail for another reason (keytar without libsecret), are left alone.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const builtForAnother = /NODE_MODULE_VERSION|compiled against a different Node\.js version/;
const rebuild = [];
for (const name of ['better-sqlite3', 'keytar']) {
  try {
    const m = require(name);
    if (name === 'better-sqlite3') new m(':memory:').close(); // its binding loads with the first database
  } catch (e) {
    if (builtForAnother.test(e instanceof Error ? e.message : String(e))) rebuild.push(name);
  }
}
if (rebuild.length > 0) {
  console.log(`${rebuild.join(' and ')} ${rebuild.length === 1 ? 'is' : 'are'} built for another runtime (Electron: npm start or npm run dist); rebuilding for Node ${process.version}`);
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['rebuild', ...rebuild], { stdio: 'inherit', shell: process.platform === 'win32' });
}
