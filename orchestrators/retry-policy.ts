/** Retry policy for activities: transient failures (a dropped connection, a throttled store) are retried. */
import * as df from 'durable-functions';

/** 4 attempts over about half a minute: 2 s, 4 s, 8 s between them. */
export function activityRetry(): df.RetryOptions {
  const retry = new df.RetryOptions(2_000, 4);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = 30_000;
  return retry;
}
