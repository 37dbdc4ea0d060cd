/**
 * How icebridge reaches Kafka, from the environment. The SASL password is a secret: it stays inside the settings
 * object and `describeKafkaSettings` is what may be logged.
 */
import { ValidationError } from '../errors';

/** The Kafka settings, by environment variable. */
export const KAFKA_SETTING_NAMES = {
  brokers: 'ICEBRIDGE_KAFKA_BROKERS',
  clientId: 'ICEBRIDGE_KAFKA_CLIENT_ID',
  ssl: 'ICEBRIDGE_KAFKA_SSL',
  saslMechanism: 'ICEBRIDGE_KAFKA_SASL_MECHANISM',
  saslUsername: 'ICEBRIDGE_KAFKA_SASL_USERNAME',
  saslPassword: 'ICEBRIDGE_KAFKA_SASL_PASSWORD',
  partitions: 'ICEBRIDGE_KAFKA_TOPIC_PARTITIONS',
  replicationFactor: 'ICEBRIDGE_KAFKA_REPLICATION_FACTOR',
  idempotent: 'ICEBRIDGE_KAFKA_IDEMPOTENT',
} as const;

/** SASL mechanisms kafkajs speaks without plugins. */
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** A configured Kafka cluster. */
export interface KafkaSettings {
  /** `host:port` of the bootstrap brokers. */
  brokers: string[];
  clientId: string;
  ssl: boolean;
  /** SASL credentials (the password is a secret), or none. */
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** Partitions of a topic icebridge creates (default 6). */
  partitions: number;
  /** Replication factor of a topic icebridge creates (default: the broker's default). */
  replicationFactor?: number;
  /** The idempotent producer (needs InitProducerId on the cluster; default false: one request in flight keeps order). */
  idempotent: boolean;
}

const MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

/** The Kafka settings of `env`, or undefined when no brokers are set; a malformed setting is a ValidationError naming it. */
export function kafkaSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSettings | undefined {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const brokerText = get(KAFKA_SETTING_NAMES.brokers);
  if (brokerText === undefined) return undefined;
  const brokers = brokerText
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  for (const broker of brokers) {
    if (!/^[^\s:/@]+:\d{1,5}$/.test(broker)) throw new ValidationError(`${KAFKA_SETTING_NAMES.brokers} must be host:port[,host:port...]`);
  }
  const mechanismText = get(KAFKA_SETTING_NAMES.saslMechanism)?.toLowerCase();
  const username = get(KAFKA_SETTING_NAMES.saslUsername);
  const password = env[KAFKA_SETTING_NAMES.saslPassword];
  let sasl: KafkaSettings['sasl'];
  if (mechanismText !== undefined) {
    if (!(MECHANISMS as readonly string[]).includes(mechanismText)) {
      throw new ValidationError(`${KAFKA_SETTING_NAMES.saslMechanism} must be one of ${MECHANISMS.join(', ')}`);
    }
    if (username === undefined || !password) {
      throw new ValidationError(`${KAFKA_SETTING_NAMES.saslMechanism} needs ${KAFKA_SETTING_NAMES.saslUsername} and ${KAFKA_SETTING_NAMES.saslPassword}`);
    }
    sasl = { mechanism: mechanismText as SaslMechanism, username, password };
  } else if (username !== undefined || password) {
    throw new ValidationError(`${KAFKA_SETTING_NAMES.saslUsername} and ${KAFKA_SETTING_NAMES.saslPassword} need ${KAFKA_SETTING_NAMES.saslMechanism}`);
  }
  const replication = get(KAFKA_SETTING_NAMES.replicationFactor);
  return {
    brokers,
    clientId: get(KAFKA_SETTING_NAMES.clientId) ?? 'icebridge',
    ssl: booleanSetting(env, KAFKA_SETTING_NAMES.ssl, sasl !== undefined),
    ...(sasl ? { sasl } : {}),
    partitions: intSetting(get(KAFKA_SETTING_NAMES.partitions), KAFKA_SETTING_NAMES.partitions, 6, 10_000),
    ...(replication ? { replicationFactor: intSetting(replication, KAFKA_SETTING_NAMES.replicationFactor, 1, 100) } : {}),
    idempotent: booleanSetting(env, KAFKA_SETTING_NAMES.idempotent, false),
  };
}

/** The Kafka settings of `env`; a ValidationError when the brokers are not set. */
export function requireKafkaSettings(env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const settings = kafkaSettingsFromEnv(env);
  if (settings === undefined) throw new ValidationError(`${KAFKA_SETTING_NAMES.brokers} is not set: the Kafka bootstrap brokers, host:port[,host:port...]`);
  return settings;
}

/** A loggable view: brokers, client id and how it signs in, never the password. */
export function describeKafkaSettings(settings: KafkaSettings): Record<string, string> {
  return {
    brokers: settings.brokers.join(','),
    clientId: settings.clientId,
    ssl: String(settings.ssl),
    sasl: settings.sasl ? `${settings.sasl.mechanism} as ${settings.sasl.username}` : 'none',
  };
}

/** A boolean setting (true/false/1/0), its default when unset. */
export function booleanSetting(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name]?.trim().toLowerCase();
  if (!text) return fallback;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new ValidationError(`${name} must be true or false`);
}

/** A positive integer setting between 1 and `max`, its default when unset. */
export function intSetting(text: string | undefined, name: string, fallback: number, max: number): number {
  if (text === undefined || text.trim() === '') return fallback;
  if (!/^\d+$/.test(text.trim())) throw new ValidationError(`${name} must be a whole number from 1 to ${max}`);
  const value = Number(text.trim());
  if (value < 1 || value > max) throw new ValidationError(`${name} must be a whole number from 1 to ${max}`);
  return value;
}
