/**
 * POST /api/weaviate/classes/{class}/resync: a table's Weaviate class back to the rows of its Iceberg snapshot
 * (body: `table` as `schema.name`, optional `namespace`, `snapshotId`, `dryRun`, `reason`). 200 with the counts;
 * a dry run changes nothing. Needs an operator; a real run is recorded in the transaction log.
 */
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import { loadSettings } from '../../shared/config/settings';
import { TableNotFoundError, ValidationError } from '../../shared/errors';
import { environmentFromSettings } from '../../shared/run/environment';
import { resyncFromWarehouse } from '../../shared/weaviate/resync-warehouse';
import { openWeaviateFromEnv } from '../../shared/weaviate/weaviate-setup';
import { failedOperation, json, problem, readJsonBody } from './http-json';
import { authorizeOperator } from './operator-auth';

/** The body of a resync request, checked. */
interface ResyncBody {
  table: { schema: string; name: string };
  namespace?: string;
  snapshotId?: bigint;
  dryRun: boolean;
  reason?: string;
}

function parseBody(body: unknown): ResyncBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ValidationError('the body must be a JSON object with "table": "<schema>.<table>"');
  const { table, namespace, snapshotId, dryRun, reason, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new ValidationError(`unknown field ${Object.keys(rest).join(', ')}`);
  if (typeof table !== 'string' || !/^[^.]+\.[^.]+$/.test(table)) throw new ValidationError('"table" must be "<schema>.<table>"');
  if (namespace !== undefined && typeof namespace !== 'string') throw new ValidationError('"namespace" must be a string');
  if (snapshotId !== undefined && !(typeof snapshotId === 'string' && /^-?\d+$/.test(snapshotId)))
    throw new ValidationError('"snapshotId" must be a snapshot id as a decimal string');
  if (dryRun !== undefined && typeof dryRun !== 'boolean') throw new ValidationError('"dryRun" must be true or false');
  if (reason !== undefined && typeof reason !== 'string') throw new ValidationError('"reason" must be a string');
  const [schema, name] = table.split('.') as [string, string];
  return {
    table: { schema, name },
    dryRun: dryRun === true,
    ...(namespace === undefined ? {} : { namespace }),
    ...(snapshotId === undefined ? {} : { snapshotId: BigInt(snapshotId) }),
    ...(reason === undefined ? {} : { reason }),
  };
}

async function resync(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  // Deleting objects of a production class needs an operator, not only a function key (operator-auth.ts).
  const operator = authorizeOperator(request);
  if ('response' in operator) return operator.response;
  try {
    const className = request.params.class;
    if (!className) throw new ValidationError('the route needs a class');
    const body = parseBody(await readJsonBody(request));
    const catalog = environmentFromSettings(loadSettings()).catalog;
    const weaviate = await openWeaviateFromEnv();
    const result = await resyncFromWarehouse(catalog, weaviate, { ...body, expectClass: className, actor: operator.actor });
    return json(200, result);
  } catch (error) {
    if (error instanceof TableNotFoundError) return problem(404, 'not found', error.message);
    return failedOperation(error, context, 'resync', 'weaviate resync failed');
  }
}

app.http('resyncWeaviateClass', {
  route: 'weaviate/classes/{class}/resync',
  methods: ['POST'],
  authLevel: 'function',
  handler: resync,
});
