/**
 * Imported first by the entry module: the telemetry SDK patches the modules it instruments (http, the Azure SDK)
 * only if it starts before they load, and a wrong telemetry setting stops the host at start-up with its name.
 */
import { startTelemetry } from './telemetry-setup';

startTelemetry();
