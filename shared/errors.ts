/** Options shared by every icebridge error. */
export interface IcebridgeErrorOptions {
  /** True when the same call may succeed if simply tried again. */
  retryable?: boolean;
  /** The underlying error, kept for diagnostics; never rendered into `message`. */
  cause?: unknown;
}

/** Base error of the product: a stable machine-readable `code` and whether a retry can help. */
export class IcebridgeError extends Error {
  /** Stable identifier callers and HTTP edges switch on. */
  readonly code: string;
  /** True when the same call may succeed if simply tried again. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: IcebridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Input that can never succeed as given (bad argument, unsupported type, refused schema change). */
export class ValidationError extends IcebridgeError {
  constructor(message: string, options: IcebridgeErrorOptions = {}) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** A file or object that does not exist. */
export class NotFoundError extends IcebridgeError {
  constructor(message: string, options: IcebridgeErrorOptions = {}) {
    super('NOT_FOUND', message, options);
  }
}

/** An exclusive create found the target already there. */
export class AlreadyExistsError extends IcebridgeError {
  constructor(message: string, options: IcebridgeErrorOptions = {}) {
    super('ALREADY_EXISTS', message, options);
  }
}

/** A table that does not exist in the catalog. */
export class TableNotFoundError extends IcebridgeError {
  constructor(message: string, options: IcebridgeErrorOptions = {}) {
    super('TABLE_NOT_FOUND', message, options);
  }
}

/** Another writer committed first; reload, re-apply and retry. */
export class CommitConflictError extends IcebridgeError {
  constructor(message: string, options: IcebridgeErrorOptions = {}) {
    super('COMMIT_CONFLICT', message, { retryable: true, ...options });
  }
}

/** The commit write failed in a way that may have landed; look before retrying or deleting anything. */
export class CommitStateUnknownError extends IcebridgeError {
  constructor(message: string, options: IcebridgeErrorOptions = {}) {
    super('COMMIT_STATE_UNKNOWN', message, options);
  }
}

/**
 * A table under change capture changed shape in the source in a way the sync cannot follow (a dropped, renamed or
 * retyped column, a renamed table, a new key): that table stops, the others go on. The message names the table,
 * what changed and what to do.
 */
export class TableShapeChangedError extends IcebridgeError {
  /** The source table, `schema.name` as displayed. */
  readonly table: string;

  constructor(table: string, change: string, options: IcebridgeErrorOptions = {}) {
    super(
      'TABLE_SHAPE_CHANGED',
      `table ${table} changed in the source: ${change}; the sync cannot carry this change into the Iceberg table, so this table stops (the others go on): copy the table again (migrate it with --cdc) to resume it`,
      options,
    );
    this.table = table;
  }
}

/** Renders any thrown value as a one-line message without stack traces. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/**
 * The reason of a failed durable task as people should see it: the Durable Functions extension appends the
 * failure details (JSON and a stack) after " \n " to the activity's message; only the part before it is kept.
 */
export function taskFailureReason(error: unknown): string {
  const message = errorMessage(error);
  const cut = message.indexOf(' \n ');
  return (cut < 0 ? message : message.slice(0, cut)).replace(/^Activity function '[^']+' failed: /, '');
}

// Credentials in the forms they take inside text: a URL's user:password@, a connection string's key=value pairs
// and the query parameters that carry one (a SAS signature, a token, a function key).
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*):[^\s@/]*@/gi, '$1:***@'],
  [/\b(password|pwd|AccountKey|SharedAccessKey|SharedAccessSignature|InstrumentationKey|ClientSecret)=[^;\s&]*/gi, '$1=***'],
  [/([?&](?:sig|token|access_token|code)=)[^&\s#]*/gi, '$1***'],
];

/** Replaces credentials found in free text (URL passwords, connection-string keys, SAS signatures) with `***`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
