#!/usr/bin/env node
/** The `icebridge` command. */
import { demoCommand } from './commands/demo';
import { migrateCommand } from './commands/migrate';
import { schemaCommand } from './commands/schema';
import { serveCommand } from './commands/serve';
import { stateCommand } from './commands/state';
import { verifyCommand } from './commands/verify';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  migrate: (argv) => migrateCommand(argv),
  serve: (argv) => serveCommand(argv),
  demo: (argv) => demoCommand(argv),
  verify: (argv) => verifyCommand(argv),
  schema: (argv) => schemaCommand(argv),
  state: (argv) => stateCommand(argv),
};

const HELP = `usage: icebridge <command> [options]

commands:
  migrate   copy PostgreSQL tables into Iceberg tables (resumable)
  verify    prove migrated tables exact: schema, counts, aggregates, and (--level full) every row
  serve     serve the function app's HTTP API and orchestrations locally
  demo      start an embedded PostgreSQL with a generated shop, migrate it, check and summarise
  schema    snapshot the mapped schemas of a database, or diff databases, warehouses and snapshots
  state     list the runs kept in a state directory, or prune finished ones

Run icebridge <command> --help for a command's options.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${HELP}`);
    return 2;
  }
  return run(rest);
}

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
