/**
 * What the copy worker pool and its worker threads say to each other. Errors cross the thread boundary as plain
 * data (structured clone keeps neither classes nor `code`/`retryable`) and are rebuilt on the other side as the
 * same class, so the activity classifies a failure in a worker exactly as it would one thrown in-process.
 */
import type { Settings } from '../config/settings';
import {
  AlreadyExistsError,
  CommitConflictError,
  CommitStateUnknownError,
  IcebridgeError,
  type IcebridgeErrorOptions,
  NotFoundError,
  TableNotFoundError,
  ValidationError,
} from '../errors';
import type { RowRangeResult } from '../verify/contracts';
import type { VerifyRowRangeInput } from '../verify/steps/plan-verification';
import type { CopyPartitionInput, CopyPartitionResult } from './contracts';

/** A failure as it travels between threads. */
export interface SerializedError {
  name: string;
  message: string;
  /** Present for IcebridgeErrors only. */
  code?: string;
  retryable?: boolean;
}

/** Parent to worker: copy one partition. The settings hold the source URL with its password: never logged. */
export interface CopyTaskMessage {
  type: 'copy';
  taskId: number;
  settings: Readonly<Settings>;
  input: CopyPartitionInput;
}

/** Parent to worker: verify one key range of a table (verifyRowRange), both sides read in the worker. */
export interface VerifyRangeTaskMessage {
  type: 'verify-range';
  taskId: number;
  settings: Readonly<Settings>;
  input: VerifyRowRangeInput;
}

/** A task a worker runs. */
export type WorkerTaskMessage = CopyTaskMessage | VerifyRangeTaskMessage;

/** Parent to worker: stop the running copy (its abort signal fires). */
export interface AbortTaskMessage {
  type: 'abort';
  taskId: number;
}

/** Messages a worker receives. */
export type ToWorkerMessage = WorkerTaskMessage | AbortTaskMessage;

/** Messages a worker sends: loaded and listening, rows copied so far, and the outcome of a task. */
export type FromWorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; taskId: number; rows: number }
  | { type: 'result'; taskId: number; result: CopyPartitionResult | RowRangeResult }
  | { type: 'error'; taskId: number; error: SerializedError };

type ErrorClass = new (message: string, options?: IcebridgeErrorOptions) => IcebridgeError;

/** Subclasses of IcebridgeError a copy can throw, by name; anything else comes back as an IcebridgeError. */
const ERROR_CLASSES: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ['ValidationError', ValidationError],
  ['NotFoundError', NotFoundError],
  ['AlreadyExistsError', AlreadyExistsError],
  ['TableNotFoundError', TableNotFoundError],
  ['CommitConflictError', CommitConflictError],
  ['CommitStateUnknownError', CommitStateUnknownError],
]);

/** Name, message and, for IcebridgeErrors, code and retryable; stacks and causes stay in the worker. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof IcebridgeError) return { name: error.name, message: error.message, code: error.code, retryable: error.retryable };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: typeof error === 'string' ? error : String(error) };
}

/** The error `serializeError` described, as an instance of the same class where the class is known. */
export function deserializeError(data: SerializedError): Error {
  if (data.code === undefined) {
    const error = new Error(data.message);
    error.name = data.name;
    return error;
  }
  const options = { retryable: data.retryable === true };
  const Known = ERROR_CLASSES.get(data.name);
  if (Known !== undefined) {
    const error = new Known(data.message, options);
    // The subclasses fix their code; a different one can only come from a subclass of theirs, kept as sent.
    if (error.code === data.code) return error;
  }
  const error = new IcebridgeError(data.code, data.message, options);
  error.name = data.name;
  return error;
}
