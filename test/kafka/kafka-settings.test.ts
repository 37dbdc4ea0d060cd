/**
 * Kafka and outbox settings: brokers, SASL and the relay's tunables are read and checked, a wrong one is named
 * without its value, and the SASL password shows nowhere: not in the loggable view, a settings error, an error
 * text, or a line kafkajs logs.
 */
import { describe, expect, it } from 'vitest';
import { connectKafka, kafkaErrorText } from '../../shared/kafka/kafka-client';
import { KAFKA_SETTING_NAMES, describeKafkaSettings, kafkaSettingsFromEnv, requireKafkaSettings } from '../../shared/kafka/kafka-settings';
import { OUTBOX_SETTING_NAMES, outboxSettingsFromEnv } from '../../shared/outbox/outbox-settings';
import { freePort } from '../../cli/support/free-port';

const PASSWORD = 'k4fka-canary-Pa55word';

describe('kafka settings', () => {
  it('reads brokers, client id, SASL and partitions, SSL on with SASL', () => {
    const settings = kafkaSettingsFromEnv({
      [KAFKA_SETTING_NAMES.brokers]: 'a:9092, b:9093',
      [KAFKA_SETTING_NAMES.saslMechanism]: 'SCRAM-SHA-512',
      [KAFKA_SETTING_NAMES.saslUsername]: 'relay',
      [KAFKA_SETTING_NAMES.saslPassword]: PASSWORD,
      [KAFKA_SETTING_NAMES.partitions]: '12',
    });
    expect(settings).toEqual({
      brokers: ['a:9092', 'b:9093'],
      clientId: 'icebridge',
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'relay', password: PASSWORD },
      partitions: 12,
      idempotent: false,
    });
    expect(JSON.stringify(describeKafkaSettings(settings!))).not.toContain(PASSWORD);
    expect(describeKafkaSettings(settings!).sasl).toBe('scram-sha-512 as relay');
  });

  it('is undefined without brokers and names the setting that is wrong, never the password', () => {
    expect(kafkaSettingsFromEnv({})).toBeUndefined();
    expect(() => requireKafkaSettings({})).toThrow(KAFKA_SETTING_NAMES.brokers);
    expect(() => kafkaSettingsFromEnv({ [KAFKA_SETTING_NAMES.brokers]: 'no-port' })).toThrow(KAFKA_SETTING_NAMES.brokers);
    const errors = [
      { [KAFKA_SETTING_NAMES.brokers]: 'a:1', [KAFKA_SETTING_NAMES.saslPassword]: PASSWORD },
      { [KAFKA_SETTING_NAMES.brokers]: 'a:1', [KAFKA_SETTING_NAMES.saslMechanism]: 'gssapi', [KAFKA_SETTING_NAMES.saslPassword]: PASSWORD },
      { [KAFKA_SETTING_NAMES.brokers]: 'a:1', [KAFKA_SETTING_NAMES.saslMechanism]: 'plain', [KAFKA_SETTING_NAMES.saslPassword]: PASSWORD },
      { [KAFKA_SETTING_NAMES.brokers]: 'a:1', [KAFKA_SETTING_NAMES.partitions]: '0' },
    ].map((env) => {
      try {
        kafkaSettingsFromEnv(env);
        return 'no error';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(errors.every((m) => m !== 'no error' && !m.includes(PASSWORD))).toBe(true);
  });

  it('keeps the password out of error texts and of what kafkajs logs while it fails to connect', async () => {
    const settings = requireKafkaSettings({
      [KAFKA_SETTING_NAMES.brokers]: `127.0.0.1:${await freePort()}`,
      [KAFKA_SETTING_NAMES.saslMechanism]: 'plain',
      [KAFKA_SETTING_NAMES.saslUsername]: 'relay',
      [KAFKA_SETTING_NAMES.saslPassword]: PASSWORD,
      [KAFKA_SETTING_NAMES.ssl]: 'false',
    });
    expect(kafkaErrorText(`auth failed for relay:${PASSWORD} at kafka://relay:${PASSWORD}@host`, settings)).not.toContain(PASSWORD);
    const lines: string[] = [];
    const connection = connectKafka(settings, { log: (line) => lines.push(line), retries: 0, connectionTimeoutInMs: 500 });
    const producer = connection.kafka.producer();
    const thrown = await producer.connect().then(
      () => 'connected',
      (error: unknown) => kafkaErrorText((error as Error).message, settings),
    );
    await producer.disconnect().catch(() => undefined);
    expect(thrown).not.toBe('connected');
    expect(lines.length).toBeGreaterThan(0);
    expect([thrown, ...lines].join('\n')).not.toContain(PASSWORD);
  });
});

describe('outbox settings', () => {
  it('has defaults and reads every tunable', () => {
    expect(outboxSettingsFromEnv({})).toEqual({
      batch: 500,
      maxAttempts: 10,
      leaseInMs: 300_000,
      backoffBaseInMs: 1_000,
      backoffMaxInMs: 600_000,
      schedule: '0 * * * * *',
      timerRunInMs: 50_000,
    });
    expect(
      outboxSettingsFromEnv({ [OUTBOX_SETTING_NAMES.batch]: '50', [OUTBOX_SETTING_NAMES.maxAttempts]: '3', [OUTBOX_SETTING_NAMES.leaseSeconds]: '30' }),
    ).toMatchObject({
      batch: 50,
      maxAttempts: 3,
      leaseInMs: 30_000,
    });
    expect(() => outboxSettingsFromEnv({ [OUTBOX_SETTING_NAMES.batch]: 'many' })).toThrow(OUTBOX_SETTING_NAMES.batch);
  });
});
