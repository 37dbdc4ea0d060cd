/**
 * `icebridge outbox relay [--once] [--batch N]`: publishes the outbox's pending rows to Kafka (until stopped with
 * Ctrl-C, or with --once until nothing is due); `icebridge outbox status`: rows by topic and status.
 */
import { IcebridgeError, errorMessage } from '../../shared/errors';
import { connectKafka } from '../../shared/kafka/kafka-client';
import { KAFKA_SETTING_NAMES, requireKafkaSettings } from '../../shared/kafka/kafka-settings';
import { relayOutbox } from '../../shared/outbox/outbox-relay';
import { outboxSettingsFromEnv } from '../../shared/outbox/outbox-settings';
import { outboxStatus } from '../../shared/outbox/outbox-status';
import { connectPostgres, redactUrl } from '../../shared/postgres/connection';
import { resolveSourceUrl } from '../../shared/postgres/source-url';
import { DEFAULT_STATE_SCHEMA, quotedStateSchema } from '../../shared/state-db/state-schema';
import { STATE_SETTING_NAMES } from '../../shared/state-db/state-settings';
import { type FlagSpec, type ParsedFlags, UsageError, intFlag, parseOrExit, stringFlag, usage } from '../support/args';
import type { ProgressOutput } from '../support/progress';

/** Flags of `icebridge outbox`. */
export const OUTBOX_FLAGS: FlagSpec[] = [
  { name: 'database', value: true, description: `the state database URL holding the outbox (default ${STATE_SETTING_NAMES.url}, else the source database)` },
  { name: 'schema', value: true, description: `the state schema (default ${STATE_SETTING_NAMES.schema}, else ${DEFAULT_STATE_SCHEMA})` },
  { name: 'brokers', value: true, description: `relay: Kafka bootstrap brokers host:port,... (default ${KAFKA_SETTING_NAMES.brokers})` },
  { name: 'once', description: 'relay: stop once nothing is due instead of waiting for more' },
  { name: 'batch', value: true, description: 'relay: rows claimed and sent at once (default ICEBRIDGE_OUTBOX_BATCH, else 500)' },
  { name: 'json', description: 'print JSON' },
  { name: 'help', description: 'show this help' },
];

const SUMMARY = `The transactional outbox, published to Kafka:
  icebridge outbox relay [--once] [--batch N]   publish pending rows (at least once; consumers dedupe by event-id)
  icebridge outbox status                       rows by topic: pending, published, failed, keys held back
Exit status: 0 done, 1 failed (status: rows failed), 2 usage error.`;

/** Usage of `icebridge outbox`. */
export const OUTBOX_USAGE = usage('outbox', SUMMARY, OUTBOX_FLAGS, 'relay|status [options]');

/** The state database (URL and schema) a command's flags and environment name. */
export async function stateDatabaseOf(flags: ParsedFlags, env: NodeJS.ProcessEnv): Promise<{ url: string; schema: string }> {
  const schema = stringFlag(flags, 'schema') ?? (env[STATE_SETTING_NAMES.schema]?.trim() || DEFAULT_STATE_SCHEMA);
  quotedStateSchema(schema);
  const url = stringFlag(flags, 'database') ?? (env[STATE_SETTING_NAMES.url]?.trim() || (await resolveSourceUrl(undefined, { env })).url);
  return { url, schema };
}

/** Runs `icebridge outbox`; returns the exit status. */
export async function outboxCommand(
  argv: string[],
  out: ProgressOutput = process.stdout,
  err: ProgressOutput = process.stderr,
  env = process.env,
): Promise<number> {
  const parsed = parseOrExit(argv, OUTBOX_FLAGS, OUTBOX_USAGE, out, err, { positionals: true });
  if (typeof parsed === 'number') return parsed;
  const { flags, positionals } = parsed;
  const json = flags.json === true;
  try {
    const [action, ...rest] = positionals;
    if (!['relay', 'status'].includes(action ?? '') || rest.length > 0) {
      throw new UsageError(`expected relay or status, found ${JSON.stringify(positionals.join(' '))}`);
    }
    const database = await stateDatabaseOf(flags, env);
    if (action === 'status') {
      const client = await connectPostgres(database.url, { applicationName: 'icebridge-outbox' });
      try {
        const topics = await outboxStatus(client, database.schema);
        if (json) out.write(`${JSON.stringify(topics, null, 2)}\n`);
        else if (topics.length === 0) out.write(`the outbox in ${redactUrl(database.url)} schema ${database.schema} is empty\n`);
        else {
          out.write(
            `${'topic'.padEnd(30)} ${'pending'.padStart(9)} ${'published'.padStart(10)} ${'failed'.padStart(7)} ${'oldest pending'.padStart(15)} ${'keys held'.padStart(9)}\n`,
          );
          for (const t of topics) {
            out.write(
              `${t.topic.padEnd(30)} ${String(t.pending).padStart(9)} ${String(t.published).padStart(10)} ${String(t.failed).padStart(7)} ${`${t.oldestPendingSeconds} s`.padStart(15)} ${String(t.blockedKeys).padStart(9)}\n`,
            );
          }
        }
        return topics.some((t) => t.failed > 0) ? 1 : 0;
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    const brokers = stringFlag(flags, 'brokers');
    const kafkaSettings = requireKafkaSettings(brokers ? { ...env, [KAFKA_SETTING_NAMES.brokers]: brokers } : env);
    const settings = outboxSettingsFromEnv(env);
    const batch = intFlag(flags, 'batch', settings.batch, { max: 10_000 });
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const result = await relayOutbox({
        database,
        kafka: connectKafka(kafkaSettings),
        settings: { ...settings, batch },
        once: flags.once === true,
        signal: stop.signal,
        log: (line) => err.write(`${line}\n`),
      });
      if (json) out.write(`${JSON.stringify(result, null, 2)}\n`);
      else
        out.write(
          `relay ${result.instance}: ${result.published} published in ${result.rounds} round(s), ${result.failedSends} failed send(s), ${result.failed} row(s) marked failed; stopped: ${result.stoppedBy}\n`,
        );
      return result.failedSends > 0 ? 1 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`${error.message}\n\n${OUTBOX_USAGE}`);
      return 2;
    }
    err.write(`failed: ${error instanceof IcebridgeError ? error.message : errorMessage(error)}\n`);
    return 1;
  }
}
