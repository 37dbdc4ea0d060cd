/**
 * `icebridge sync` in a child process with the sync loop's test switches set from the environment, so a suite can
 * SIGKILL the real command at an exact point: ICEBRIDGE_TEST_SYNC_HOLD = `before-apply:N` or `after-apply:N` holds
 * the Nth batch (of this process) before its commits or between its commits and its confirm, after writing the file
 * ICEBRIDGE_TEST_SYNC_HOLD_MARKER; ICEBRIDGE_TEST_SYNC_CONFIRM_BEFORE_APPLY=1 confirms each batch before applying it.
 */
import { writeFileSync } from 'node:fs';
import { syncCommand } from '../../../cli/commands/sync';
import { syncTestSwitches } from '../../../shared/sync/sync-loop';

const hold = /^(before-apply|after-apply):(\d+)$/.exec(process.env.ICEBRIDGE_TEST_SYNC_HOLD ?? '');
const marker = process.env.ICEBRIDGE_TEST_SYNC_HOLD_MARKER;

/** A hook that, at its Nth call, writes the marker and never returns: the parent kills the process there. */
function holdAt(n: number): () => Promise<void> {
  let calls = 0;
  return async () => {
    calls++;
    if (calls !== n) return;
    if (marker !== undefined) writeFileSync(marker, String(process.pid));
    await new Promise<never>(() => setInterval(() => undefined, 60_000));
  };
}

syncTestSwitches.confirmBeforeApply = process.env.ICEBRIDGE_TEST_SYNC_CONFIRM_BEFORE_APPLY === '1';
if (hold) {
  if (hold[1] === 'before-apply') syncTestSwitches.beforeApply = holdAt(Number(hold[2]));
  else syncTestSwitches.afterApply = holdAt(Number(hold[2]));
}

void syncCommand(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
