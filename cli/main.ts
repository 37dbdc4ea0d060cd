#!/usr/bin/env node
/** The `icebridge` command. */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SYNC_NODE_FLAGS, lacksNodeFlags, rerunWithNodeFlags } from './support/node-flags';

type Command = (argv: string[]) => Promise<number>;

/**
 * Each command's module, loaded when that command runs: help and the version load none, and a command loads its
 * own code only (a migrate does not load the Kafka or ClickHouse commands).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const COMMANDS: Record<string, () => Command> = {
  migrate: () => (require('./commands/migrate') as typeof import('./commands/migrate')).migrateCommand,
  serve: () => (require('./commands/serve') as typeof import('./commands/serve')).serveCommand,
  demo: () => (require('./commands/demo') as typeof import('./commands/demo')).demoCommand,
  verify: () => (require('./commands/verify') as typeof import('./commands/verify')).verifyCommand,
  schema: () => (require('./commands/schema') as typeof import('./commands/schema')).schemaCommand,
  state: () => (require('./commands/state') as typeof import('./commands/state')).stateCommand,
  sync: () => (require('./commands/sync') as typeof import('./commands/sync')).syncCommand,
  compact: () => (require('./commands/compact') as typeof import('./commands/compact')).compactCommand,
  flags: () => (require('./commands/flags') as typeof import('./commands/flags')).flagsCommand,
  rollback: () => (require('./commands/flags') as typeof import('./commands/flags')).rollbackCommand,
  restore: () => (require('./commands/restore') as typeof import('./commands/restore')).restoreCommand,
  snapshot: () => (require('./commands/snapshot') as typeof import('./commands/snapshot')).snapshotCommand,
  replay: () => (require('./commands/replay') as typeof import('./commands/replay')).replayCommand,
  reconcile: () => (require('./commands/reconcile') as typeof import('./commands/reconcile')).reconcileCommand,
  drill: () => (require('./commands/drill') as typeof import('./commands/drill')).drillCommand,
  drift: () => (require('./commands/drift') as typeof import('./commands/drift')).driftCommand,
  db: () => (require('./commands/db') as typeof import('./commands/db')).dbCommand,
  jobs: () => (require('./commands/jobs') as typeof import('./commands/jobs')).jobsCommand,
  maintain: () => (require('./commands/maintain') as typeof import('./commands/maintain')).maintainCommand,
  fanout: () => (require('./commands/fanout') as typeof import('./commands/fanout')).fanoutCommand,
  weaviate: () => (require('./commands/weaviate') as typeof import('./commands/weaviate')).weaviateCommand,
  clickhouse: () => (require('./commands/clickhouse') as typeof import('./commands/clickhouse')).clickhouseCommand,
  outbox: () => (require('./commands/outbox') as typeof import('./commands/outbox')).outboxCommand,
  kafka: () => (require('./commands/kafka') as typeof import('./commands/kafka')).kafkaCommand,
};
/* eslint-enable @typescript-eslint/no-require-imports */

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
    const help = commandNamed(topic);
    if (!help) return unknownCommand(topic);
    return help()(['--help']);
  }
  if (command === undefined) {
    process.stderr.write(`missing command\n\n${HELP}`);
    return 2;
  }
  const run = commandNamed(command);
  if (!run) return unknownCommand(command);
  if (command === 'sync' && require.main === module && lacksNodeFlags(SYNC_NODE_FLAGS)) return rerunWithNodeFlags(SYNC_NODE_FLAGS, argv, __filename);
  return run()(rest);
}

/** The command of that name; none for any other word (`constructor` included, which every object answers to). */
function commandNamed(name: string): (() => Command) | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
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
