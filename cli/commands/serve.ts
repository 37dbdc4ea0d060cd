/**
 * `icebridge serve`: the function app's HTTP API and orchestrations in-process, for machines without Azure
 * Functions Core Tools. Settings come from the environment and, like `func start`, local.settings.json.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describeSettings, loadSettings } from '../../shared/config/settings';
import { errorMessage } from '../../shared/errors';
import { OPERATOR_SETTING_NAMES } from '../../functions/http/operator-auth';
import { type FlagSpec, intFlag, parseFlags, stringFlag, usage } from '../support/args';
import { LocalHost, consoleHostLog } from '../local-host';
import { DEFAULT_STATE_DIR, appHostJson, loadFunctionModules } from '../support/local-run';

/** Flags of `icebridge serve`. */
export const SERVE_FLAGS: FlagSpec[] = [
  { name: 'port', value: true, description: 'HTTP port (default 7071, like func start)' },
  { name: 'state-dir', value: true, description: 'where orchestration history is kept (default .icebridge/state)' },
  { name: 'settings', value: true, description: 'settings file (default local.settings.json when present)' },
  { name: 'timers', description: 'fire the timer functions (scheduled jobs) on their schedules, UTC, while serving' },
  { name: 'help', description: 'show this help' },
];

/** Serves until interrupted; returns the exit status. */
export async function serveCommand(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, SERVE_FLAGS);
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n\n${usage('serve', 'Serve the function app locally.', SERVE_FLAGS)}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(usage('serve', 'Serve the function app locally.', SERVE_FLAGS));
    return 0;
  }
  try {
    await applySettingsFile(stringFlag(flags, 'settings') ?? 'local.settings.json', stringFlag(flags, 'settings') !== undefined);
    const settings = loadSettings();
    const stateDir = path.resolve(stringFlag(flags, 'state-dir') ?? DEFAULT_STATE_DIR);
    const tokenFile = await ensureLocalToken(stateDir);
    const host = await LocalHost.load(loadFunctionModules, {
      stateDir,
      hostJson: appHostJson(),
      log: consoleHostLog,
    });
    const listener = await host.listen(intFlag(flags, 'port', 7071, { min: 0, max: 65_535 }));
    await host.resumeAll();
    // Off by default: two serve processes over one warehouse would each fire them (a slot still runs once).
    const timers = flags.timers === true ? host.startTimers() : [];
    process.stdout.write(
      `icebridge is serving ${listener.url}/api (${Object.entries(describeSettings(settings))
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')})\n` +
        `the dashboard is ${listener.url}/api/dashboard\n` +
        (tokenFile === undefined
          ? `changing calls (flags, rollback, a table's retry) need Authorization: Bearer $${OPERATOR_SETTING_NAMES.localToken}\n`
          : `changing calls (flags, rollback, a table's retry) need Authorization: Bearer <the token in ${tokenFile}>\n`) +
        (flags.timers === true
          ? timers.map((t) => `timer ${t.name} next fires ${t.next}\n`).join('')
          : 'timers (scheduled jobs) are not fired: pass --timers, or run them with icebridge jobs run\n'),
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await listener.close();
    await host.close();
    return 0;
  } catch (error) {
    process.stderr.write(`serve failed: ${errorMessage(error)}\n`);
    return 1;
  }
}

/**
 * The local host's operator token: ICEBRIDGE_LOCAL_TOKEN when set, else a new random one written to a file only
 * its owner can read (never printed). Returns the file, or undefined when the token came from the environment.
 */
async function ensureLocalToken(stateDir: string): Promise<string | undefined> {
  if (process.env[OPERATOR_SETTING_NAMES.localToken]?.trim()) return undefined;
  const file = path.join(stateDir, 'serve-token');
  await mkdir(stateDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  process.env[OPERATOR_SETTING_NAMES.localToken] = token;
  return file;
}

/** Copies a Functions-style settings file's Values into the environment without overriding what is set. */
async function applySettingsFile(file: string, required: boolean): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`cannot read settings file ${file}`);
  }
  const values = (JSON.parse(text) as { Values?: Record<string, unknown> }).Values ?? {};
  for (const [name, value] of Object.entries(values)) {
    if (process.env[name] === undefined && typeof value === 'string' && value !== '') process.env[name] = value;
  }
}
