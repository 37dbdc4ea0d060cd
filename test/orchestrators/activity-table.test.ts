/**
 * The typed seam between orchestrators and activities (orchestrators/activity-table.ts,
 * functions/activities/register-activity.ts) on the local host: callActivity and allActivities schedule exactly
 * the tasks a plain callActivityWithRetry and Task.all would (name, input, the project's retry policy, order), and
 * hand back each activity's outcome. The type checks at the end fail `npm run typecheck` if the typing rots.
 */
import type { OrchestrationContext } from 'durable-functions';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { registerActivity } from '../../functions/activities/register-activity';
import { type ActivityTask, activityTask, allActivities, callActivity } from '../../orchestrators/activity-table';
import type { ActivityOutcome, CommitTableResult, CountRowsResult } from '../../shared/migrate/contracts';
import type { TableVerification } from '../../shared/verify/contracts';

type SeamApp = typeof import('./fixtures/seam-app.js');

let host: LocalHost;
let app: SeamApp;

beforeAll(async () => {
  host = await LocalHost.load(
    async () => {
      await import('./fixtures/seam-app.js');
    },
    { log: silentHostLog },
  );
  app = await import('./fixtures/seam-app.js');
});

afterAll(async () => {
  await host?.close();
});

/** The project's retry policy (retry-policy.ts) as the host decodes it. */
const projectRetry = { firstRetryIntervalInMs: 2_000, maxNumberOfAttempts: 4, backoffCoefficient: 2, maxRetryIntervalInMs: 30_000 };

describe('the typed activity seam', () => {
  it('registers the activities under their names and hands each call its outcome, in the order of the calls', async () => {
    expect([...host.functions.keys()]).toEqual(expect.arrayContaining(['countRows', 'saveTableVerification', 'seamCheck']));
    const id = await host.startOrchestration('seamCheck', undefined, 'seam-1');
    const status = await host.waitForCompletion(id, { timeoutInMs: 30_000 });
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({
      alone: { ok: true, value: { targetRows: 7, sourceRows: 5 } },
      together: [
        { ok: false, code: 'SNAPSHOT_GONE', reason: 'snapshot gone is gone' },
        { ok: true, value: null },
        { ok: true, value: { targetRows: 9, sourceRows: 5 } },
      ],
    });
    expect(app.saved).toEqual(['mem://reports/0.json']);
  });

  it('schedules one activity with retry, then one Task.all of the three in the order given, each with the project retry policy', async () => {
    const id = await host.startOrchestration('seamCheck', undefined, 'seam-2');
    await host.waitForCompletion(id, { timeoutInMs: 30_000 });
    const replay = await host.replayHistory(id);
    expect(replay.problem).toBeUndefined();
    const retry = expect.objectContaining(projectRetry) as unknown;
    expect(replay.answer.actions.flat()).toEqual([
      { kind: 'activity', name: 'countRows', input: app.countInput('7'), retry },
      {
        kind: 'whenAll',
        children: [
          { kind: 'activity', name: 'countRows', input: app.countInput('gone'), retry },
          { kind: 'activity', name: 'saveTableVerification', input: expect.objectContaining({ location: 'mem://reports/0.json' }) as unknown, retry },
          { kind: 'activity', name: 'countRows', input: app.countInput('9'), retry },
        ],
      },
    ]);
  });
});

/**
 * Never called: each `@ts-expect-error` below must meet a type error, or the type check fails on the unused
 * directive, so a wrong input or output at a call or a registration cannot start to compile.
 */
export function* typeChecks(context: OrchestrationContext): Generator<unknown, void, unknown> {
  const counted = yield* callActivity(context, 'countRows', app.countInput('1'));
  expectTypeOf(counted).toEqualTypeOf<ActivityOutcome<CountRowsResult>>();
  // @ts-expect-error a count is not a commit's result
  const wrongOutput: ActivityOutcome<CommitTableResult> = counted;
  // @ts-expect-error countRows needs the table and its snapshot, not a location
  yield* callActivity(context, 'countRows', { location: 'x' });
  // @ts-expect-error no activity has this name
  yield* callActivity(context, 'dropTable', app.countInput('1'));
  const tasks: [ActivityTask<CountRowsResult>, ActivityTask<null>] = [
    activityTask(context, 'countRows', app.countInput('1')),
    activityTask(context, 'saveTableVerification', { location: 'x', verification: {} as TableVerification }),
  ];
  const [first, second] = yield* allActivities(context, tasks);
  expectTypeOf(first).toEqualTypeOf<ActivityOutcome<CountRowsResult>>();
  expectTypeOf(second).toEqualTypeOf<ActivityOutcome<null>>();
  // @ts-expect-error countRows answers row counts, not a commit's result
  registerActivity('countRows', async () => ({ ok: true, value: { snapshotId: '1', rows: 0, files: 0, created: true } }));
  // @ts-expect-error saveTableVerification is called with a location and a verification, not a number
  registerActivity('saveTableVerification', async (input: number) => ({ ok: false, code: 'WRONG', reason: String(input) }));
  void wrongOutput;
}
