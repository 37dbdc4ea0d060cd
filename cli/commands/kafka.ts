/**
 * `icebridge kafka reset-offsets --group G --topic T --to <ISO datetime> [--dry-run]`: rolls a consumer group back
 * to a point in time (shared/kafka/consumer-offsets.ts); a dry run prints what would move and changes nothing.
 */
import { userInfo } from 'node:os';
import { IcebridgeError, errorMessage } from '../../shared/errors';
import { resetConsumerOffsets } from '../../shared/kafka/consumer-offsets';
import { connectKafka, kafkaErrorText } from '../../shared/kafka/kafka-client';
import { KAFKA_SETTING_NAMES, requireKafkaSettings } from '../../shared/kafka/kafka-settings';
import { ConflictError } from '../../shared/kafka/offsets-errors';
import { type FlagSpec, UsageError, parseOrExit, stringFlag, usage } from '../support/args';
import type { ProgressOutput } from '../support/progress';

/** Flags of `icebridge kafka`. */
export const KAFKA_FLAGS: FlagSpec[] = [
  { name: 'group', value: true, description: 'reset-offsets: the consumer group' },
  { name: 'topic', value: true, description: 'reset-offsets: the topic' },
  { name: 'to', value: true, description: 'reset-offsets: the time to go back to, ISO 8601 with a zone (2026-03-01T12:00:00Z)' },
  { name: 'dry-run', description: 'reset-offsets: show what would move, change nothing' },
  { name: 'reason', value: true, description: 'reset-offsets: why (kept in the transaction log)' },
  { name: 'actor', value: true, description: 'who (default: the operating-system user)' },
  { name: 'brokers', value: true, description: `Kafka bootstrap brokers host:port,... (default ${KAFKA_SETTING_NAMES.brokers})` },
  { name: 'json', description: 'print JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `Kafka operations:
  icebridge kafka reset-offsets --group G --topic T --to <ISO datetime> [--dry-run]
      reset a consumer group's offsets on a topic to the first message at or after the time; refused while the
      group has active members; recorded in the transaction log (kafka.offsets.reset)
Exit status: 0 done, 1 failed or refused, 2 usage error.`;

/** Usage of `icebridge kafka`. */
export const KAFKA_USAGE = usage('kafka', SUMMARY, KAFKA_FLAGS, 'reset-offsets [options]');

/** An ISO 8601 date-time with a zone, or a UsageError: a time without a zone would depend on this machine's. */
export function parseResetTime(text: string | undefined): Date {
  if (text === undefined) throw new UsageError('--to is required');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    throw new UsageError(`--to must be an ISO 8601 date-time with a zone (2026-03-01T12:00:00Z), found ${JSON.stringify(text)}`);
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--to is not a valid date-time: ${JSON.stringify(text)}`);
  return date;
}

/** Runs `icebridge kafka`; returns the exit status. */
export async function kafkaCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, KAFKA_FLAGS, KAFKA_USAGE, out, err, { positionals: true });
  if (typeof parsed === 'number') return parsed;
  const { flags, positionals } = parsed;
  let settings: ReturnType<typeof requireKafkaSettings> | undefined;
  try {
    if (positionals.join(' ') !== 'reset-offsets') throw new UsageError(`expected reset-offsets, found ${JSON.stringify(positionals.join(' '))}`);
    const group = stringFlag(flags, 'group');
    const topic = stringFlag(flags, 'topic');
    if (!group) throw new UsageError('--group is required');
    if (!topic) throw new UsageError('--topic is required');
    const to = parseResetTime(stringFlag(flags, 'to'));
    const brokers = stringFlag(flags, 'brokers');
    settings = requireKafkaSettings(brokers ? { ...env, [KAFKA_SETTING_NAMES.brokers]: brokers } : env);
    const reason = stringFlag(flags, 'reason');
    const result = await resetConsumerOffsets(connectKafka(settings), {
      group,
      topic,
      to,
      dryRun: flags['dry-run'] === true,
      actor: stringFlag(flags, 'actor') ?? osUser(),
      ...(reason ? { reason } : {}),
    });
    if (flags.json === true) {
      out.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    out.write(`${result.dryRun ? 'dry run: would reset' : 'reset'} group ${group} on ${topic} to ${result.to}\n`);
    for (const p of result.partitions) out.write(`  partition ${p.partition}: ${p.current ?? 'none'} -> ${p.target} (${p.reconsumed} to consume again)\n`);
    for (const m of result.messages)
      out.write(`  ${m.partition}@${m.offset} ${m.timestamp} key ${m.key ?? '(none)'}${m.eventId ? ` event ${m.eventId}` : ''}\n`);
    if (result.messagesNotListed > 0) out.write(`  and ${result.messagesNotListed} more message(s)\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n\n${KAFKA_USAGE}`);
      return 2;
    }
    const text = error instanceof IcebridgeError ? error.message : errorMessage(error);
    err.write(`${error instanceof ConflictError ? 'refused' : 'failed'}: ${settings ? kafkaErrorText(text, settings) : text}\n`);
    return 1;
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
