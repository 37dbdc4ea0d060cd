/** The first word of a command with subcommands (`icebridge snapshot rollback …`): chosen, helped, or refused. */
import type { ProgressOutput } from './progress';

/**
 * The subcommand of `argv` and the arguments after it, when it is one of `names`; otherwise the exit status after
 * writing `help`: 0 for --help/-h (to `out`), 2 for none or an unknown one (to `err`).
 */
export function pickSubcommand<T extends string>(
  argv: readonly string[],
  names: readonly T[],
  help: string,
  out: ProgressOutput,
  err: ProgressOutput,
): { sub: T; rest: string[] } | number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    (sub === undefined ? err : out).write(help);
    return sub === undefined ? 2 : 0;
  }
  if (!(names as readonly string[]).includes(sub)) {
    err.write(`unknown subcommand ${JSON.stringify(sub)}\n\n${help}`);
    return 2;
  }
  return { sub: sub as T, rest };
}
