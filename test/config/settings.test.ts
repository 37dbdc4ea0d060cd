import { describe, expect, it } from 'vitest';
import { describeSettings, loadSettings } from '../../shared/config/settings';

const KEY = 'c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=';

describe('settings', () => {
  it('defaults to a local warehouse and freezes the result', () => {
    const settings = loadSettings({});
    expect(settings).toMatchObject({ warehouse: '.icebridge/warehouse', taskHub: 'icebridge', storage: {} });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('reads account-key credentials and never shows the key', () => {
    const settings = loadSettings({
      ICEBRIDGE_WAREHOUSE: 'abfss://lake@acct.dfs.core.windows.net/wh',
      ICEBRIDGE_STORAGE_ACCOUNT: 'acct',
      ICEBRIDGE_STORAGE_KEY: KEY,
    });
    expect(settings.storage.azure?.accounts).toEqual([{ accountName: 'acct', accountKey: KEY }]);
    expect(JSON.stringify(describeSettings(settings))).not.toContain(KEY);
    expect(describeSettings(settings).storageCredentials).toBe('account key for acct');
  });

  it('refuses an Azure warehouse without credentials and half-set keys, naming settings not values', () => {
    expect(() => loadSettings({ ICEBRIDGE_WAREHOUSE: 'abfss://lake@acct.dfs.core.windows.net/wh' })).toThrow(/ICEBRIDGE_STORAGE_CONNECTION_STRING/);
    try {
      loadSettings({ ICEBRIDGE_STORAGE_KEY: KEY });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toMatch(/must be set together/);
      expect(String(error)).not.toContain(KEY);
    }
    expect(() => loadSettings({ ICEBRIDGE_TASK_HUB: 'bad hub!' })).toThrow(/ICEBRIDGE_TASK_HUB/);
  });
});
