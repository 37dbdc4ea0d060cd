/**
 * The host's log levels in host.json: every category the operations pages name is set, to a level the Functions
 * host knows, and the Durable Task categories stay at Warning (at Information they log every queue poll and
 * history read, which is most of an Application Insights bill for a busy task hub).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const LEVELS = ['Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical', 'None'];

describe('host.json logging', () => {
  const hostJson = JSON.parse(readFileSync(path.resolve(__dirname, '../../host.json'), 'utf8')) as { logging?: { logLevel?: Record<string, string> } };
  const levels = hostJson.logging?.logLevel ?? {};

  it('sets each category to a known level', () => {
    for (const category of ['default', 'DurableTask.AzureStorage', 'DurableTask.Core', 'Function', 'Host.Results']) {
      expect(LEVELS, category).toContain(levels[category]);
    }
  });

  it('keeps the Durable Task categories at Warning or quieter', () => {
    for (const category of ['DurableTask.AzureStorage', 'DurableTask.Core']) {
      expect(LEVELS.indexOf(levels[category] ?? 'Trace')).toBeGreaterThanOrEqual(LEVELS.indexOf('Warning'));
    }
  });
});
