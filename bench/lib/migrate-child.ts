/**
 * Child-process entry of the migration benchmark: runs one job (JSON in argv[2]), sends the outcome over IPC,
 * then stays alive until the parent disconnects, so the parent can read this process's peak RSS (VmHWM) from
 * /proc before it is gone.
 */
import { runJob, type JobResult, type MigrateJob } from './migrate-candidates';

/** What the child sends back. */
export type ChildMessage = { ok: true; result: JobResult } | { ok: false; error: string };

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as MigrateJob;
  let message: ChildMessage;
  try {
    message = { ok: true, result: await runJob(job) };
  } catch (error) {
    message = { ok: false, error: describe(error) };
  }
  if (!process.send) {
    console.log(JSON.stringify(message));
    return;
  }
  process.once('disconnect', () => process.exit(0));
  process.send(message);
}

main().catch((error: unknown) => {
  console.error(describe(error));
  process.exit(1);
});
