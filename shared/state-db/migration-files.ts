/**
 * The numbered SQL files of the state schema (`migrations/NNNN_name.sql` at the package root, shipped beside
 * `dist/`): read in version order, each with the SHA-256 of its bytes, so a file changed after it was applied is
 * recognised.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../errors';

/** One migration file. */
export interface MigrationFile {
  /** The number the file name starts with. */
  version: number;
  /** The file name, `0001_icebridge_schema.sql`. */
  name: string;
  /** Hex SHA-256 of the file's bytes. */
  checksum: string;
  sql: string;
}

const FILE_NAME = /^(\d{4,})_([a-z0-9_]+)\.sql$/;

/** The folder holding the migrations: the nearest `migrations/` above this module (the sources, or a package). */
export function defaultMigrationsDirectory(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'migrations');
    if (existsSync(path.join(candidate, '0001_icebridge_schema.sql'))) return candidate;
    if (path.dirname(dir) === dir) throw new ValidationError(`the migrations folder was not found above ${from}: the package is incomplete`);
  }
}

/** Reads every migration file of `directory`, ordered by version; a stray `.sql` name or a repeated version is an error. */
export async function readMigrationFiles(directory: string = defaultMigrationsDirectory()): Promise<MigrationFile[]> {
  const files: MigrationFile[] = [];
  for (const name of (await readdir(directory)).sort()) {
    if (!name.endsWith('.sql')) continue;
    const match = FILE_NAME.exec(name);
    // A misnamed file would otherwise never run, silently.
    if (match === null) throw new ValidationError(`migration file ${name} is not named NNNN_lowercase_name.sql`);
    const bytes = await readFile(path.join(directory, name));
    const version = Number(match[1]);
    const clash = files.find((f) => f.version === version);
    if (clash) throw new ValidationError(`migration files ${clash.name} and ${name} have the same version ${version}`);
    files.push({ version, name, checksum: createHash('sha256').update(bytes).digest('hex'), sql: bytes.toString('utf8') });
  }
  return files.sort((a, b) => a.version - b.version);
}
