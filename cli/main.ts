#!/usr/bin/env node
/** The `icebridge` command. */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { clickhouseCommand } from './commands/clickhouse';
import { compactCommand } from './commands/compact';
import { dbCommand } from './commands/db';
import { demoCommand } from './commands/demo';
import { drillCommand } from './commands/drill';
import { driftCommand } from './commands/drift';
import { fanoutCommand } from './commands/fanout';
import { flagsCommand, rollbackCommand } from './commands/flags';
import { jobsCommand } from './commands/jobs';
import { kafkaCommand } from './commands/kafka';
import { maintainCommand } from './commands/maintain';
import { migrateCommand } from './commands/migrate';
import { outboxCommand } from './commands/outbox';
import { reconcileCommand } from './commands/reconcile';
import { replayCommand } from './commands/replay';
import { restoreCommand } from './commands/restore';
import { schemaCommand } from './commands/schema';
import { serveCommand } from './commands/serve';
import { snapshotCommand } from './commands/snapshot';
import { stateCommand } from './commands/state';
import { syncCommand } from './commands/sync';
import { verifyCommand } from './commands/verify';
import { weaviateCommand } from './commands/weaviate';
import { SYNC_NODE_FLAGS, lacksNodeFlags, rerunWithNodeFlags } from './support/node-flags';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  migrate: (argv) => migrateCommand(argv),
  serve: (argv) => serveCommand(argv),
  demo: (argv) => demoCommand(argv),
  verify: (argv) => verifyCommand(argv),
  schema: (argv) => schemaCommand(argv),
  state: (argv) => stateCommand(argv),
  sync: (argv) => syncCommand(argv),
  compact: (argv) => compactCommand(argv),
  flags: (argv) => flagsCommand(argv),
  rollback: (argv) => rollbackCommand(argv),
  restore: (argv) => restoreCommand(argv),
  snapshot: (argv) => snapshotCommand(argv),
  replay: (argv) => replayCommand(argv),
  reconcile: (argv) => reconcileCommand(argv),
  drill: (argv) => drillCommand(argv),
  drift: (argv) => driftCommand(argv),
  db: (argv) => dbCommand(argv),
  jobs: (argv) => jobsCommand(argv),
  maintain: (argv) => maintainCommand(argv),
  fanout: (argv) => fanoutCommand(argv),
  weaviate: (argv) => weaviateCommand(argv),
  clickhouse: (argv) => clickhouseCommand(argv),
  outbox: (argv) => outboxCommand(argv),
  kafka: (argv) => kafkaCommand(argv),
};

const HELP = `usage: icebridge <command> [options]

commands:
  migrate   copy PostgreSQL tables into Iceberg tables (resumable)
  verify    prove migrated tables exact: schema, counts, aggregates, and (--level full) every row
  serve     serve the function app's HTTP API and orchestrations locally
  demo      start an embedded PostgreSQL with a generated shop, migrate it, check and summarise
  schema    snapshot the mapped schemas of a database, or diff databases, warehouses and snapshots
  state     list the runs kept in a state directory, or prune finished ones
  sync      apply a migrate --cdc run's changes to its tables (--until-caught-up), or --drop its slot
  compact   rewrite tables' data files with their row-level deletes applied, merge small files
  flags     list, set (audited, etag-checked) and trace the cutover flags
  rollback  emergency: every flag back to PostgreSQL in one audited operation
  restore   restore PostgreSQL tables as of an Iceberg snapshot, into new tables or in place, verified
  snapshot  roll an Iceberg table back to an earlier snapshot (snapshot rollback), audited
  replay    apply Iceberg tables' changes since a snapshot back to PostgreSQL (one transaction)
  reconcile apply the router's queued dual writes to the side that missed them
  drill     rehearse snapshot rollback, point-in-time restore and a partial failure on scratch objects
  drift     schema drift: the source against its Iceberg tables, the schema registry, or a second environment
  db        apply and list the state schema's migrations (db migrate|status), read the transaction log (db log)
  jobs      run a scheduled job (consistency, maintenance) now, or list every job's latest result
  maintain  compact, expire old snapshots (never one a sync or restore needs), remove old orphan files
  weaviate  resync a table's Weaviate class from its Iceberg snapshot (--dry-run: counts only)
  fanout    load a run's tables into the event store, ClickHouse and Weaviate; check every system agrees
  clickhouse back up a ClickHouse analytics table's months, or restore chosen ones (backup|restore), audited
  outbox    publish the event outbox to Kafka (relay [--once]), or count its rows by topic and status
  kafka     reset a consumer group's offsets to a time (reset-offsets, with --dry-run), audited
  help      show a command's options: icebridge help <command>

options:
  -h, --help     show this help
  -v, --version  print the version

The source database comes from --source, ICEBRIDGE_SOURCE_URL, or the libpq variables (PGHOST, PGPORT, PGUSER,
PGPASSWORD, PGDATABASE) and ~/.pgpass. Run icebridge <command> --help for a command's options.
`;

/** The package's version, read from the package.json above this file (one level up from tsx, two from dist). */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'icebridge' && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

/** Runs one command line; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`icebridge ${packageVersion()}\n`);
    return 0;
  }
  if (command === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      process.stdout.write(HELP);
      return 0;
    }
    const help = COMMANDS[topic];
    if (!help) return unknownCommand(topic);
    return help(['--help']);
  }
  if (command === undefined) {
    process.stderr.write(`missing command\n\n${HELP}`);
    return 2;
  }
  const run = COMMANDS[command];
  if (!run) return unknownCommand(command);
  if (command === 'sync' && require.main === module && lacksNodeFlags(SYNC_NODE_FLAGS)) return rerunWithNodeFlags(SYNC_NODE_FLAGS, argv, __filename);
  return run(rest);
}

function unknownCommand(command: string): number {
  process.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${HELP}`);
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Exit on our own if a stray handle (a pool, a socket) would keep the process alive after the work is done.
      setTimeout(() => process.exit(code), 2_000).unref();
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
