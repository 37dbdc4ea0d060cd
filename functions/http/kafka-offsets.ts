/**
 * POST /api/kafka/groups/{group}/reset-offsets {topic, to, dryRun?, reason?}: rolls a consumer group back to a time
 * (shared/kafka/consumer-offsets.ts). A dry run answers what would move; a reset changes what consumers read, so
 * it needs an operator (operator-auth.ts) and a reason, and answers 409 while the group has active members.
 */
import { type HttpRequest, type HttpResponseInit, type InvocationContext, app } from '@azure/functions';
import { ValidationError } from '../../shared/errors';
import { resetConsumerOffsets } from '../../shared/kafka/consumer-offsets';
import { connectKafka } from '../../shared/kafka/kafka-client';
import { requireKafkaSettings } from '../../shared/kafka/kafka-settings';
import { ConflictError } from '../../shared/kafka/offsets-errors';
import { failedOperation, json, problem, readJsonBody } from './http-json';
import { authorizeOperator } from './operator-auth';

/** A reset request's body, checked. */
export interface ResetOffsetsBody {
  topic: string;
  to: Date;
  dryRun: boolean;
  reason?: string;
}

const NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** Checks a reset request's body; a ValidationError names the field. */
export function parseResetOffsetsBody(body: unknown): ResetOffsetsBody {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('the body must be a JSON object');
  const { topic, to, dryRun, reason } = body as Record<string, unknown>;
  if (typeof topic !== 'string' || !NAME.test(topic)) throw new ValidationError('topic must be a Kafka topic name (letters, digits, . _ -)');
  if (typeof to !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(to) || Number.isNaN(new Date(to).getTime())) {
    throw new ValidationError('to must be an ISO 8601 date-time with a zone (2026-03-01T12:00:00Z)');
  }
  if (dryRun !== undefined && typeof dryRun !== 'boolean') throw new ValidationError('dryRun must be true or false');
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 2_000))
    throw new ValidationError('reason must be a text of at most 2,000 characters');
  if (dryRun !== true && (typeof reason !== 'string' || reason.trim() === ''))
    throw new ValidationError('a reset needs a reason (it is kept in the transaction log)');
  return { topic, to: new Date(to), dryRun: dryRun === true, ...(typeof reason === 'string' ? { reason } : {}) };
}

async function resetOffsets(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const group = request.params.group;
    if (!group || !NAME.test(group)) throw new ValidationError('the group must be a consumer group name (letters, digits, . _ -)');
    const body = parseResetOffsetsBody(await readJsonBody(request));
    let actor = 'dry run';
    if (!body.dryRun) {
      const operator = authorizeOperator(request);
      if ('response' in operator) return operator.response;
      actor = operator.actor;
    }
    const result = await resetConsumerOffsets(connectKafka(requireKafkaSettings()), {
      group,
      topic: body.topic,
      to: body.to,
      dryRun: body.dryRun,
      actor,
      ...(body.reason ? { reason: body.reason } : {}),
    });
    return json(200, result);
  } catch (error) {
    if (error instanceof ConflictError) return problem(409, 'conflict', error.message);
    return failedOperation(error, context, 'reset', 'resetting consumer offsets failed');
  }
}

app.http('resetKafkaOffsets', {
  route: 'kafka/groups/{group}/reset-offsets',
  methods: ['POST'],
  authLevel: 'function',
  handler: resetOffsets,
});
