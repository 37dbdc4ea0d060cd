/** The environment (catalog, connection factory) the activities work in, from the app's settings. */
import { loadSettings } from '../../shared/config/settings';
import { type RunEnvironment, environmentFromSettings } from '../../shared/run/environment';

const environments = new Map<string, RunEnvironment>();

/**
 * Built once per distinct source and warehouse: on Azure that is once per process; a local host may run
 * migrations of several databases in turn.
 */
export function environment(): RunEnvironment {
  const settings = loadSettings();
  const key = `${settings.sourceUrl ?? ''}\u0000${settings.warehouse}`;
  let env = environments.get(key);
  if (!env) {
    env = environmentFromSettings(settings);
    environments.set(key, env);
  }
  return env;
}
