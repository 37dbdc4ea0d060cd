/**
 * A throw-away ClickHouse server for tests: Debian's clickhouse-server (18.16) with a generated config in a temp
 * folder, listening on 127.0.0.1 only (free HTTP port; the native TCP and interserver ports free ones too, so two
 * suites never collide), owned by the `clickhouse` user when it exists, since the server's files must be writable by
 * whoever runs it. Ready once `SELECT 1` answers over HTTP; `stop` ends it and removes the folder.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../../cli/support/free-port';
import type { ClickHouseSettings } from '../../../shared/clickhouse/clickhouse-settings';

/** A running test server. */
export interface ClickHouseInstance {
  /** Settings of the server's `default` user and a fresh database name. */
  settings: ClickHouseSettings;
  /** The server's recent output, for failure messages. */
  logs(): string;
  /** Stops the server and removes its folder; safe to call more than once. */
  stop(): Promise<void>;
}

const SERVER_BINARIES = ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server'];
// A fixed, throw-away password of a loopback-only test server.
const PASSWORD = 'icebridge-clickhouse-test';

/** Options of `startClickHouse`. */
export interface StartClickHouseOptions {
  /** The settings' database (created by the code under test); default `icebridge_test`. */
  database?: string;
  /** The `default` user's password (letters and digits); default a fixed test password. */
  password?: string;
  startTimeoutInMs?: number;
}

/** Starts the server. */
export async function startClickHouse(options: StartClickHouseOptions = {}): Promise<ClickHouseInstance> {
  const database = options.database ?? 'icebridge_test';
  const password = options.password ?? PASSWORD;
  const startTimeoutInMs = options.startTimeoutInMs ?? 60_000;
  if (!/^[A-Za-z0-9-]+$/.test(password)) throw new Error('the test password is letters, digits and -');
  const binary = SERVER_BINARIES.find((file) => existsSync(file));
  if (!binary) throw new Error('clickhouse-server is not installed (Debian package clickhouse-server)');
  const dir = mkdtempSync(path.join(tmpdir(), 'icebridge-clickhouse-'));
  const [http, tcp, interserver] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(path.join(dir, 'config.xml'), serverConfig(dir, http, tcp, interserver));
  writeFileSync(path.join(dir, 'users.xml'), usersConfig(password));
  const owner = serverUser();
  // The folder must belong to whoever runs the server; as root, the `clickhouse` user runs it.
  if (owner) execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dir], { stdio: 'ignore' });
  let log = '';
  const child: ChildProcess = spawn(binary, [`--config-file=${path.join(dir, 'config.xml')}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(owner ?? {}),
  });
  const capture = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const url = `http://127.0.0.1:${http}`;
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exit;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + startTimeoutInMs;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`clickhouse-server exited while starting:\n${log}`);
    }
    if (await answers(url, password)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`clickhouse-server did not answer within ${startTimeoutInMs} ms:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { settings: { url, user: 'default', password, database }, logs: () => log, stop };
}

/** The `clickhouse` user's ids when running as root and it exists; else the server runs as the current user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'clickhouse'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'clickhouse'], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

async function answers(url: string, password: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/`, { method: 'POST', body: 'SELECT 1', headers: { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': password } });
    return response.ok && (await response.text()).trim() === '1';
  } catch {
    return false;
  }
}

function serverConfig(dir: string, http: number, tcp: number, interserver: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog><console>1</console></logger>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <interserver_http_port>${interserver}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>134217728</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
</yandex>
`;
}

function usersConfig(password: string): string {
  return `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password>${password}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
}
