// npm's prepare step: builds dist/ when the compiler is installed (npm ci, npm install), so `npx icebridge` works
// right after an install. A production install (--omit=dev) has no compiler: it keeps a dist/ built beforehand and
// does not fail for want of tsc.
const { spawnSync } = require('node:child_process');

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
