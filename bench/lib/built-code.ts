/**
 * The product's code as it runs for users: compiled by `npm run build` into dist/. Azure Functions and the
 * icebridge command run that JavaScript, not the TypeScript sources through tsx, whose CommonJS wrappers make
 * every imported binding a getter called on each use (in a hot loop, a call per value). The migration benchmark
 * builds it first, and its in-process candidates and the command line run it.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

export const REPO = path.join(__dirname, '..', '..');

/** Compiles the sources into dist/ as `npm run build` does; rejects with tsc's report when they do not compile. */
export async function buildProduct(): Promise<void> {
  const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', path.join(REPO, 'tsconfig.build.json')], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const report = (error as { stdout?: string }).stdout ?? '';
    throw new Error(`building dist/ failed (npm run build):\n${report.slice(0, 4000)}`, { cause: error });
  }
}

/** The built module of a source file, named from the repository root without extension (cli/support/run-migration). */
export function builtModule(source: string): string {
  return path.join(REPO, 'dist', `${source}.js`);
}
