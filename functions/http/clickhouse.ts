/**
 * POST /api/clickhouse/tables/{table}/restore: puts backed-up months of a ClickHouse analytics table back (the
 * source table `schema.name` in the route), with a reason, recorded in the transaction log; `dryRun` shows the live
 * rows per month now and after and changes nothing. 200 with the figures; 404 for a table or month without one.
 * Needs an operator.
 */
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import { openClickHouse } from '../../shared/clickhouse/clickhouse-connection';
import { CLICKHOUSE_SETTING_NAMES, clickHouseFromEnv } from '../../shared/clickhouse/clickhouse-settings';
import { resolveAnalyticsTable, restorePartitions } from '../../shared/clickhouse/partition-restore';
import { parseClickHouseRestoreRequest } from '../../shared/clickhouse/restore-request';
import { NotFoundError } from '../../shared/errors';
import { failedOperation, json, problem, readJsonBody } from './http-json';
import { authorizeOperator } from './operator-auth';

async function restore(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  // Replacing analytics months needs an operator, not only a function key (operator-auth.ts).
  const operator = authorizeOperator(request);
  if ('response' in operator) return operator.response;
  try {
    const body = parseClickHouseRestoreRequest(await readJsonBody(request));
    const settings = clickHouseFromEnv();
    if (!settings) return problem(409, 'not configured', `ClickHouse is not configured (${CLICKHOUSE_SETTING_NAMES.url})`);
    const connection = openClickHouse(settings);
    try {
      const table = await resolveAnalyticsTable(connection, request.params.table ?? '');
      const result = await restorePartitions(connection, table, {
        partitions: body.partitions,
        dryRun: body.dryRun,
        reason: body.reason,
        actor: operator.actor,
      });
      return json(200, result);
    } finally {
      await connection.close();
    }
  } catch (error) {
    if (error instanceof NotFoundError) return problem(404, 'not found', error.message);
    return failedOperation(error, context, 'restore', 'clickhouse restore failed');
  }
}

app.http('restoreClickHouseTable', {
  route: 'clickhouse/tables/{table}/restore',
  methods: ['POST'],
  authLevel: 'function',
  handler: restore,
});
