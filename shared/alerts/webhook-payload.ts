/**
 * The JSON posted to the webhook: one body both Slack and Microsoft Teams incoming webhooks accept. Slack reads
 * `text` (and ignores the rest); Teams reads the Office 365 connector card (`@type: MessageCard`: title, summary,
 * theme colour, a section of facts). Teams Workflows webhooks, which take only Adaptive Cards, are not supported.
 */
import type { Alert } from './alert';

/** The body of one alert. */
export interface WebhookPayload {
  text: string;
  '@type': 'MessageCard';
  '@context': 'https://schema.org/extensions';
  summary: string;
  themeColor: string;
  title: string;
  sections: Array<{ facts: Array<{ name: string; value: string }> }>;
}

// Lengths that keep a card readable and well inside both services' limits (Teams: 28 KB per message).
const TEXT_LENGTH = 2_000;
const FACTS = 12;
const FACT_LENGTH = 300;

/** The webhook body of `alert`. */
export function webhookPayload(alert: Alert): WebhookPayload {
  const cut = (text: string, length: number): string => (text.length <= length ? text : `${text.slice(0, length - 1)}…`);
  const facts = alert.facts.slice(0, FACTS).map((f) => ({ name: cut(f.name, 100), value: cut(f.value, FACT_LENGTH) }));
  const label = alert.severity === 'critical' ? 'CRITICAL' : 'WARNING';
  return {
    text: cut(`[icebridge ${label}] ${alert.title}\n${alert.text}`, TEXT_LENGTH),
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: cut(alert.title, 200),
    themeColor: alert.severity === 'critical' ? 'D13438' : 'FFB900',
    title: cut(`icebridge: ${alert.title}`, 200),
    sections: [{ facts: [{ name: 'condition', value: alert.condition }, { name: 'subject', value: cut(alert.subject, FACT_LENGTH) }, ...facts] }],
  };
}
