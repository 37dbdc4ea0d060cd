/**
 * POST /api/kafka/groups/{group}/reset-offsets on the local host against the mock cluster: a dry run answers the
 * plan without an operator, a reset needs the operator's token and a reason, and then moves the group.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { appHostJson, loadFunctionModules } from '../../cli/support/local-run';
import type { ResetOffsetsResult } from '../../shared/kafka/consumer-offsets';
import { connectKafka, connectProducer, ensureTopics, withAdmin } from '../../shared/kafka/kafka-client';
import { type KafkaMock, startKafkaMock } from './support/kafka-mock';

const TOKEN = 'kafka-http-token';
let mock: KafkaMock;
let host: LocalHost;
let base: string;
let workDir: string;
const saved = { ...process.env };

beforeAll(async () => {
  mock = await startKafkaMock();
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-kafka-http-'));
  process.env.ICEBRIDGE_WAREHOUSE = path.join(workDir, 'warehouse');
  process.env.ICEBRIDGE_KAFKA_BROKERS = mock.brokers.join(',');
  process.env.ICEBRIDGE_LOCAL_TOKEN = TOKEN;
  host = await LocalHost.load(loadFunctionModules, { stateDir: path.join(workDir, 'state'), hostJson: appHostJson(), log: silentHostLog });
  base = (await host.listen(0)).url;
}, 300_000);

afterAll(async () => {
  await host?.close();
  await mock?.stop();
  process.env = saved;
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function post(body: unknown, token?: string): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}/api/kafka/groups/audit/reset-offsets`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as unknown };
}

describe('POST /api/kafka/groups/{group}/reset-offsets', () => {
  it('plans without an operator, resets only with one and a reason', async () => {
    const kafka = connectKafka({ brokers: mock.brokers, clientId: 'icebridge-test', ssl: false, partitions: 4, idempotent: false });
    await ensureTopics(kafka, ['audit-events']);
    const producer = await connectProducer(kafka);
    await producer.send({ topic: 'audit-events', acks: -1, messages: [{ key: 'a', value: '1', partition: 0, timestamp: String(Date.UTC(2026, 0, 2)) }] });
    await producer.disconnect();

    const plan = await post({ topic: 'audit-events', to: '2026-01-01T00:00:00Z', dryRun: true });
    expect(plan.status).toBe(200);
    expect((plan.json as ResetOffsetsResult).partitions.find((p) => p.partition === 0)).toEqual({ partition: 0, current: null, target: '0', reconsumed: 0 });

    expect((await post({ topic: 'audit-events', to: '2026-01-01T00:00:00Z', reason: 'replay' })).status).toBe(401);
    expect((await post({ topic: 'audit-events', to: '2026-01-01T00:00:00Z' }, TOKEN)).status).toBe(400);
    const reset = await post({ topic: 'audit-events', to: '2026-01-01T00:00:00Z', reason: 'replay' }, TOKEN);
    expect(reset.status).toBe(200);
    expect((reset.json as ResetOffsetsResult).applied).toBe(true);
    const [offsets] = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId: 'audit', topics: ['audit-events'] }));
    expect(offsets!.partitions.find((p) => p.partition === 0)!.offset).toBe('0');
  }, 240_000);
});
