/**
 * POST /api/tables/{namespace}/{table}/rollback: moves one Iceberg table of the app's warehouse back to an earlier
 * snapshot, with a reason, recorded in the table's audit trail. 200 with what changed; 409 while a sync writes the
 * table (unless `stopSync`, which stops it first and waits a bounded time for its slot). Needs an operator.
 */
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import { loadSettings } from '../../shared/config/settings';
import { TableNotFoundError, ValidationError } from '../../shared/errors';
import { parseRollbackRequest } from '../../shared/restore/rollback-request';
import { SyncWritingError, rollbackTable } from '../../shared/restore/table-rollback';
import { environmentFromSettings } from '../../shared/run/environment';
import { failedOperation, json, problem, readJsonBody } from './http-json';
import { authorizeOperator } from './operator-auth';

/** How long a rollback asked to stop a sync waits for its slot, well inside the HTTP call's time. */
const STOP_SYNC_WAIT_MS = 60_000;

async function rollback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  // Moving a production table back needs an operator, not only a function key (operator-auth.ts).
  const operator = authorizeOperator(request);
  if ('response' in operator) return operator.response;
  try {
    const body = parseRollbackRequest(await readJsonBody(request));
    const namespace = request.params.namespace;
    const name = request.params.table;
    if (!namespace || !name) throw new ValidationError('the route needs a namespace and a table');
    const env = environmentFromSettings(loadSettings());
    const result = await rollbackTable(env, {
      table: { namespace: [namespace], name },
      to: body.to,
      reason: body.reason,
      actor: operator.actor,
      ...(body.stopSync ? { stopSync: { waitInMs: STOP_SYNC_WAIT_MS } } : {}),
    });
    return json(200, result);
  } catch (error) {
    if (error instanceof SyncWritingError) return problem(409, 'sync writing', error.message);
    if (error instanceof TableNotFoundError) return problem(404, 'not found', error.message);
    return failedOperation(error, context, 'rollback');
  }
}

app.http('rollbackTable', {
  route: 'tables/{namespace}/{table}/rollback',
  methods: ['POST'],
  authLevel: 'function',
  handler: rollback,
});
