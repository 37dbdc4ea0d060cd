/** The names a run's hand-over to change capture goes by, derived from the run id alone (so a replay finds them). */
import { createHash } from 'node:crypto';

/** PostgreSQL's longest identifier, and a slot name's limit. */
const MAX_NAME = 63;

/**
 * The slot's and the publication's name for a run: `icebridge_<runId>`, lowercased, every character outside
 * [a-z0-9_] an underscore; a name that would pass 63 characters keeps a hash of the run id so it stays distinct.
 */
export function handoverName(runId: string): string {
  const name = `icebridge_${runId.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  if (name.length <= MAX_NAME) return name;
  const hash = createHash('sha256').update(runId).digest('hex').slice(0, 12);
  return `${name.slice(0, MAX_NAME - hash.length - 1)}_${hash}`;
}

/** The command that removes a run's slot and publication (a slot left behind keeps WAL on the source). */
export function dropCommand(runId: string): string {
  return `icebridge sync --drop --run ${runId}`;
}
