/**
 * The outbox relay timer (`outboxRelayTimer`): on its NCRONTAB schedule (ICEBRIDGE_OUTBOX_RELAY_SCHEDULE, default
 * every minute) it relays the outbox to Kafka until nothing is due or ICEBRIDGE_OUTBOX_RELAY_SECONDS pass.
 *
 * It runs the relay directly rather than through an orchestration: a run is one bounded loop with nothing to fan
 * out or resume, every claim is a lease in PostgreSQL, so two instances firing at once (or a run that overlaps the
 * next) share the rows without publishing one twice, and a run cut short leaves leased rows that the next picks up.
 * It is registered only when Kafka brokers are configured (ICEBRIDGE_KAFKA_BROKERS): an app without the Kafka
 * fan-out has no timer firing every minute for nothing.
 */
import { type InvocationContext, type Timer, app } from '@azure/functions';
import { ValidationError, errorMessage } from '../../shared/errors';
import { connectKafka } from '../../shared/kafka/kafka-client';
import { kafkaSettingsFromEnv } from '../../shared/kafka/kafka-settings';
import { parseNcrontab } from '../../shared/ops/ncrontab';
import { relayOutbox } from '../../shared/outbox/outbox-relay';
import { OUTBOX_SETTING_NAMES, outboxSettingsFromEnv } from '../../shared/outbox/outbox-settings';
import { stateDatabaseFromEnv } from '../../shared/state-db/state-settings';

/** The timer function's name. */
export const OUTBOX_RELAY_TIMER = 'outboxRelayTimer';

const settings = outboxSettingsFromEnv();
try {
  parseNcrontab(settings.schedule);
} catch (error) {
  throw new ValidationError(`${OUTBOX_SETTING_NAMES.schedule}: ${errorMessage(error)}`);
}

if (kafkaSettingsFromEnv() !== undefined) registerOutboxRelayTimer();

function registerOutboxRelayTimer(): void {
  app.timer(OUTBOX_RELAY_TIMER, {
    schedule: settings.schedule,
    handler: async (timer: Timer, context: InvocationContext): Promise<void> => {
      const kafka = kafkaSettingsFromEnv();
      const database = stateDatabaseFromEnv();
      if (kafka === undefined || database === undefined) {
        context.log('outbox relay: the state database is not configured; nothing to relay');
        return;
      }
      const result = await relayOutbox({
        database,
        kafka: connectKafka(kafka),
        settings,
        once: true,
        deadline: Date.now() + settings.timerRunInMs,
        instance: `${context.invocationId}`,
        log: (line) => context.warn(line),
      });
      context.log(
        `outbox relay: ${result.published} published, ${result.failedSends} failed send(s), ${result.failed} row(s) failed; stopped: ${result.stoppedBy}`,
        timer.isPastDue ? '(past due)' : '',
      );
    },
  });
}
