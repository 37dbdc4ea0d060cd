/**
 * The downstream systems of a deployment, opened from its settings: the sinks the sync feeds and the inventories
 * the consistency check reads. Which systems take part is `ICEBRIDGE_FANOUT_SYSTEMS` (comma-separated:
 * event-store, clickhouse, weaviate), by default every one that is configured; Kafka is read (never written) by the
 * check when it is configured beside the event store, since the outbox relay publishes the events to it.
 */
import type { Client } from 'pg';
import { ClickHouseSink } from '../clickhouse/clickhouse-sink';
import { clickHouseFromEnv } from '../clickhouse/clickhouse-settings';
import { ValidationError } from '../errors';
import { connectKafka } from '../kafka/kafka-client';
import { kafkaSettingsFromEnv } from '../kafka/kafka-settings';
import { topicInventory } from '../kafka/topic-inventory';
import { eventStoreInventory } from '../events/event-inventory';
import { eventSettingsFromEnv } from '../events/event-settings';
import { eventStoreSinkFromSettings } from '../events/event-store-sink';
import type { InventorySource } from '../fanout/consistency/check-fanout';
import type { FanoutSink, FanoutTable } from '../fanout/fanout-types';
import { qualifiedName } from '../fanout/identity';
import type { WeaviateSink } from '../weaviate/weaviate-sink';
import { connectPostgres } from '../postgres/connection';
import { type StateDatabaseSettings, stateDatabaseFromEnv } from '../state-db/state-settings';
import { weaviateSettingsFromEnv } from '../weaviate/weaviate-settings';
import { openWeaviate } from '../weaviate/weaviate-setup';

/** The systems that can take the feed. */
export const SINK_SYSTEMS = ['event-store', 'clickhouse', 'weaviate'] as const;
/** One of them. */
export type SinkSystem = (typeof SINK_SYSTEMS)[number];

/** The setting naming the systems that take part. */
export const FANOUT_SYSTEMS_SETTING = 'ICEBRIDGE_FANOUT_SYSTEMS';

/** Opened systems: the sinks, the inventories of every system besides PostgreSQL and Iceberg, and how to close them. */
export interface FanoutSystems {
  systems: SinkSystem[];
  sinks: FanoutSink[];
  inventories: InventorySource[];
  /** Checks run after a historical load (Weaviate's similarity smoke check): one line per table and check, and whether it passed. */
  afterLoad(tables: readonly FanoutTable[]): Promise<Array<{ line: string; ok: boolean }>>;
  close(): Promise<void>;
}

/** The systems `env` asks for (or every configured one); a system asked for but not configured is an error naming its setting. */
export function fanoutSystemsOf(env: NodeJS.ProcessEnv): SinkSystem[] {
  const configured: Record<SinkSystem, boolean> = {
    'event-store': stateDatabaseFromEnv(env) !== undefined,
    clickhouse: clickHouseFromEnv(env) !== undefined,
    weaviate: weaviateSettingsFromEnv(env) !== undefined,
  };
  const asked = env[FANOUT_SYSTEMS_SETTING]?.trim();
  if (asked === undefined || asked === '') return SINK_SYSTEMS.filter((s) => configured[s]);
  const systems = asked.split(',').map((s) => s.trim());
  for (const system of systems) {
    if (!(SINK_SYSTEMS as readonly string[]).includes(system))
      throw new ValidationError(`${FANOUT_SYSTEMS_SETTING}: ${JSON.stringify(system)} is not one of ${SINK_SYSTEMS.join(', ')}`);
    if (!configured[system as SinkSystem]) throw new ValidationError(`${FANOUT_SYSTEMS_SETTING} names ${system}, which is not configured`);
  }
  return [...new Set(systems)] as SinkSystem[];
}

/** Opens the systems of `env` for the run `migrationId` (recorded in every event). */
export async function openFanoutSystems(env: NodeJS.ProcessEnv, migrationId: string): Promise<FanoutSystems> {
  const systems = fanoutSystemsOf(env);
  if (systems.length === 0)
    throw new ValidationError(`no downstream system is configured: set ICEBRIDGE_STATE_DATABASE_URL (event store), a ClickHouse or a Weaviate URL`);
  const sinks: FanoutSink[] = [];
  const inventories: InventorySource[] = [];
  const closers: Array<() => Promise<void>> = [];
  let weaviate: WeaviateSink | undefined;
  try {
    if (systems.includes('event-store')) {
      const state = stateDatabaseFromEnv(env)!;
      sinks.push(eventStoreSinkFromSettings(state, eventSettingsFromEnv(env), migrationId));
      const reader = lazyClient(state);
      closers.push(() => reader.close());
      inventories.push({ system: 'event-store', inventory: async (table) => eventStoreInventory(await reader.client(), state.schema, table) });
    }
    // Kafka takes the events through the outbox relay: the check reads each entity's topic.
    const kafka = systems.includes('event-store') ? kafkaSettingsFromEnv(env) : undefined;
    if (kafka !== undefined) {
      const connection = connectKafka(kafka);
      const prefix = eventSettingsFromEnv(env).topicPrefix;
      inventories.push({
        system: 'kafka',
        inventory: (table) => topicInventory(connection, table, { topic: `${prefix}${table.entity}`, aggregateType: table.entity }),
      });
    }
    if (systems.includes('clickhouse')) {
      const sink = ClickHouseSink.open(clickHouseFromEnv(env)!);
      sinks.push(sink);
      inventories.push({ system: 'clickhouse', inventory: (table) => sink.inventory(table) });
    }
    if (systems.includes('weaviate')) {
      const opened = await openWeaviate(weaviateSettingsFromEnv(env)!);
      sinks.push(opened.sink);
      weaviate = opened.sink;
      inventories.push({ system: 'weaviate', inventory: (table) => opened.sink.inventory(table) });
    }
  } catch (error) {
    for (const sink of sinks) await sink.close().catch(() => undefined);
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
  return {
    systems,
    sinks,
    inventories,
    afterLoad: async (tables) => {
      const lines: Array<{ line: string; ok: boolean }> = [];
      if (weaviate === undefined) return lines;
      for (const table of tables) {
        const report = await weaviate.similarity(table);
        const failures = report.failures.map((f) => `key ${f.key}: ${f.problem}`).join('; ');
        lines.push({
          line: `weaviate similarity ${qualifiedName(table)} (${report.className}): ${report.passed} of ${report.sampled} sampled objects found themselves first${failures === '' ? '' : `; ${failures}`}`,
          ok: report.passed === report.sampled,
        });
      }
      return lines;
    },
    close: async () => {
      for (const sink of sinks) await sink.close().catch(() => undefined);
      for (const close of closers) await close().catch(() => undefined);
    },
  };
}

/** One state-database connection opened on first use, for the inventories. */
function lazyClient(state: StateDatabaseSettings): { client(): Promise<Client>; close(): Promise<void> } {
  let opened: Promise<Client> | undefined;
  return {
    client: () => (opened ??= connectPostgres(state.url, { applicationName: 'icebridge-fanout-check' })),
    close: async () => {
      if (opened !== undefined) await (await opened).end();
    },
  };
}
