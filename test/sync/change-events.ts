/** Change events as the stream hands them over, for applier tests. */
import type { ChangeEvent, RowChange } from '../../shared/cdc/change-decoder';

/** One whole transaction ending at `endLsn` with these changes. */
export function transaction(endLsn: bigint, ...changes: RowChange[]): ChangeEvent[] {
  return [
    { kind: 'begin', finalLsn: endLsn - 8n, commitTime: 0n, xid: 1 },
    ...changes.map((change): ChangeEvent => ({ kind: 'change', change })),
    { kind: 'commit', commitLsn: endLsn - 8n, endLsn, commitTime: 0n },
  ];
}
