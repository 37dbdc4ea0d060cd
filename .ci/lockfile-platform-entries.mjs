#!/usr/bin/env node
// Adds lockfile entries for platform-specific optional dependencies that the registry mirror this project is
// built against does not serve (other operating systems' and CPUs' binaries). npm leaves them out of the
// lockfile, and `npm ci` then refuses the lockfile as out of sync. The added entries carry the version and the
// os/cpu/libc constraints, so npm skips them on this platform without fetching anything.
// Run after any dependency change: node .ci/lockfile-platform-entries.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony'];
const CPU = ['arm64', 'x64', 'arm', 'ia32', 'loong64', 'ppc64', 'riscv64', 's390x', 'mips64el', 'wasm32'];
const file = new URL('../package-lock.json', import.meta.url);
/** @typedef {{ version?: string, dev?: boolean, optional?: boolean, optionalDependencies?: Record<string, string> }} LockEntry */
/** @type {{ packages: Record<string, LockEntry> }} */
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- npm writes this file; the type above names the fields read here
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    if (packages[`node_modules/${name}`] || packages[`${path}/node_modules/${name}`]) continue;
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(range)) {
      console.warn(`skipped ${name}@${range}: not an exact version`);
      continue;
    }
    const parts = name.split(/[/-]/);
    const os = OS.filter((o) => parts.includes(o) || (o === 'win32' && parts.includes('windows')));
    const cpu = CPU.filter((c) => parts.includes(c) || (c === 'arm' && parts.includes('gnueabihf')));
    const stub = { version: range, dev: entry.dev || undefined, optional: true };
    if (os.length > 0) stub.os = os;
    if (cpu.length > 0) stub.cpu = cpu;
    if (parts.includes('musl') || parts.includes('musleabihf')) stub.libc = ['musl'];
    else if (parts.includes('gnu') || parts.includes('gnueabihf')) stub.libc = ['glibc'];
    packages[`node_modules/${name}`] = stub;
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entries`);
