/**
 * `icebridge/router`: the routing library for applications during a cutover (see docs/router.md). Import it as
 * `require('icebridge/router')` once the package is built (`npm run build`).
 */
export {
  type ReadDifference,
  type ReadOptions,
  type Router,
  type RouterOptions,
  type RouterStats,
  type SecondaryFailure,
  type TableRepository,
  MAX_FIND_LIMIT,
  createRouter,
} from './router';
export type { RecordRow } from './table-shape';
export { type IcebergWriteSettings, IcebergWriteError, ROUTER_BATCH_PROPERTY } from './iceberg-writer';
export { SyncWritingError } from '../restore/table-rollback';
export { FlagEvaluator, type RoutingDecision } from '../flags/flag-evaluator';
export { LocalFlagStore } from '../flags/local-flag-store';
export { AppConfigurationFlagStore } from '../flags/app-configuration-store';
export type { FlagStore } from '../flags/flag-store';
export type { Value } from '../iceberg/spec/values';
