import { describe, expect, it } from 'vitest';
import { MAX_REASON_LENGTH, failureMessage } from '../../shared/run/instance-status';

describe('failureMessage', () => {
  it("gives an error's message, a text as it is, and 'failed' when the status carries nothing", () => {
    expect(failureMessage({ message: 'boom', name: 'Error' })).toBe('boom');
    expect(failureMessage('the host stopped')).toBe('the host stopped');
    expect(failureMessage(undefined)).toBe('failed');
    expect(failureMessage(null)).toBe('failed');
  });

  it('shows any other output as JSON, shortened, never as [object Object]', () => {
    expect(failureMessage({ code: 'X', details: [1, 2] })).toBe('{"code":"X","details":[1,2]}');
    expect(failureMessage({ message: { code: 'Y' } })).toBe('{"code":"Y"}');
    expect(failureMessage({ reason: 'x'.repeat(2 * MAX_REASON_LENGTH) })).toHaveLength(MAX_REASON_LENGTH);
  });
});
