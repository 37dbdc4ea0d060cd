/**
 * librdkafka's mock Kafka cluster, run by Debian's `kcat`: `kcat -C -X test.mock.num.brokers=3 ... -d mock` starts
 * an in-process cluster of three brokers on loopback ports and prints `bootstrap.servers=...` on stderr; the
 * cluster lives as long as that kcat process. kcat runs in its own process group, stopped as a whole.
 *
 * What the mock does not do for kafkajs (test/integration/kafka-mock-probe.test.ts checks each one):
 * - CreateTopics, DeleteTopics, CreatePartitions: no controller broker to send them to; a topic is created with
 *   4 partitions when its metadata is first asked for (auto-creation), which `ensureTopics` falls back on.
 * - the idempotent producer and transactions: InitProducerId goes to the missing controller.
 * - DescribeGroups and ListGroups: not implemented, so kafkajs' `admin.setOffsets` (which describes the group
 *   first) fails; `resetConsumerOffsets` checks for active members by joining the group instead there.
 * - ListOffsets by timestamp: answers the high watermark for any time, so offsets for a time are found by reading
 *   the partition's message timestamps.
 * Consumer groups (JoinGroup, SyncGroup, Heartbeat, OffsetCommit, OffsetFetch), acks=all produce and fetch work.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** A running mock cluster. */
export interface KafkaMock {
  /** `host:port` of the three brokers. */
  brokers: string[];
  /** Stops the cluster (kills kcat's process group); safe to call more than once. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/** Starts a three-broker mock cluster through kcat and waits for its bootstrap servers. */
export async function startKafkaMock(): Promise<KafkaMock> {
  // kcat needs a topic to consume; it waits on it forever, which is what keeps the cluster alive.
  const child = spawn('kcat', ['-C', '-X', 'test.mock.num.brokers=3', '-b', 'mock:1', '-t', 'icebridge-mock-keepalive', '-d', 'mock', '-q'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const brokers = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`kcat printed no bootstrap servers in ${START_TIMEOUT_MS} ms:\n${stderr.slice(-2_000)}`)), START_TIMEOUT_MS);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      killGroup(child);
      reject(error);
    };
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`kcat exited (${code}) before the mock cluster started:\n${stderr.slice(-2_000)}`)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (stderr.length < 64_000) stderr += chunk;
      const found = /bootstrap\.servers=(\S+)/.exec(stderr);
      if (found) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(found[1]!.split(',').filter((b) => b.length > 0));
      }
    });
  });
  // The debug output goes on as long as kcat runs: drain it so a full pipe never blocks the cluster.
  child.stderr!.removeAllListeners('data');
  child.stderr!.resume();
  let stopped: Promise<void> | undefined;
  return {
    brokers,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        killGroup(child);
      });
      return stopped;
    },
  };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
