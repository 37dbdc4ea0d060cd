/**
 * The memory a table writer's buffered row groups may take together, when its caller gives none. A partitioned
 * target keeps one writer open per partition, each buffering up to a row group, so without a shared budget the
 * bytes held grow with the partitions a copy touches. Each thread has its own default (module state is per
 * thread): the copy worker sets it from the instance's memory budget as it starts.
 */
import { ValidationError } from '../../errors';
import { DEFAULT_ROW_GROUP_SIZE_IN_BYTES } from '../parquet/data-file-writer';

/** Four default row groups: one writer never hits it; sixteen open writers flush early. */
export const DEFAULT_BUFFER_BUDGET_IN_BYTES = 4 * DEFAULT_ROW_GROUP_SIZE_IN_BYTES;

let budget = DEFAULT_BUFFER_BUDGET_IN_BYTES;

/** The budget table writers of this thread use when they are given none. */
export function defaultBufferBudget(): number {
  return budget;
}

/** Sets this thread's default budget (bytes, positive). */
export function setDefaultBufferBudget(bytes: number): void {
  if (!Number.isFinite(bytes) || bytes <= 0) throw new ValidationError(`a writer buffer budget must be a positive number of bytes, got ${bytes}`);
  budget = bytes;
}
