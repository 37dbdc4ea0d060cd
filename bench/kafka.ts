/**
 * The outbox relay's throughput into Kafka: N outbox rows (keys interleaved, as the feed writes them) published by
 * `--relays` relays at once to librdkafka's mock cluster (three brokers, from Debian's kcat), acks=all, each row
 * marked published after the broker's acknowledgement. Prints events per second from the first claim to the last
 * mark. The mock keeps messages in memory on this machine, so the figure is the relay's own cost (PostgreSQL
 * claims and marks, kafkajs encoding), not a network's.
 *
 *   npx tsx bench/kafka.ts [--rows 100000] [--relays 3] [--batch 500]
 */
import { performance } from 'node:perf_hooks';
import { connectKafka } from '../shared/kafka/kafka-client';
import { relayOutbox } from '../shared/outbox/outbox-relay';
import { connectPostgres } from '../shared/postgres/connection';
import { migrateStateDatabase } from '../shared/state-db/migration-runner';
import { startKafkaMock } from '../test/integration/support/kafka-mock';
import { startPostgres } from '../test/integration/support/postgres';
import { insertOutboxRows } from '../test/kafka/outbox-fixtures';

/** What `benchKafka` measures with. */
export interface KafkaBenchOptions {
  rows: number;
  relays: number;
  batch: number;
}

/** One measurement. */
export interface KafkaBenchResult extends KafkaBenchOptions {
  seconds: number;
  eventsPerSecond: number;
}

/** Publishes `rows` outbox rows with `relays` relays and prints (and answers) events per second. */
export async function benchKafka(options: KafkaBenchOptions, print: (line: string) => void = console.log): Promise<KafkaBenchResult> {
  const [pg, mock] = await Promise.all([startPostgres(), startKafkaMock()]);
  try {
    const url = await pg.createDatabase('state');
    const client = await connectPostgres(url);
    try {
      await migrateStateDatabase(client, { schema: 'icebridge' });
      const keys = Math.max(1, Math.floor(options.rows / 20));
      await insertOutboxRows(client, { schema: 'icebridge', topic: 'bench', keys, versions: Math.ceil(options.rows / keys) });
    } finally {
      await client.end();
    }
    const kafka = connectKafka({ brokers: mock.brokers, clientId: 'icebridge-bench', ssl: false, partitions: 6, idempotent: false });
    const settings = { batch: options.batch, maxAttempts: 10, leaseInMs: 300_000, backoffBaseInMs: 1_000, backoffMaxInMs: 60_000 };
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: options.relays }, (_, i) =>
        relayOutbox({ database: { url, schema: 'icebridge' }, kafka, settings, once: true, instance: `bench-${i}` }),
      ),
    );
    const seconds = (performance.now() - started) / 1_000;
    const published = results.reduce((sum, r) => sum + r.published, 0);
    const eventsPerSecond = published / seconds;
    print(
      `outbox -> kafka: ${published} events by ${options.relays} relay(s), batch ${options.batch}: ${seconds.toFixed(1)} s, ${Math.round(eventsPerSecond)} events/s`,
    );
    return { ...options, rows: published, seconds, eventsPerSecond };
  } finally {
    await Promise.all([pg.stop(), mock.stop()]);
  }
}

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

if (require.main === module) {
  benchKafka({ rows: flag('rows', 100_000), relays: flag('relays', 3), batch: flag('batch', 500) }).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
