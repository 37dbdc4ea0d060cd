import { ValidationError } from '../../errors';
import { redactLocation } from './io-errors';

/** URI schemes naming Azure storage: the ABFS driver's (Data Lake endpoint) and the WASB driver's (Blob endpoint). */
export type AzureScheme = 'abfss' | 'abfs' | 'wasbs';

/** An Azure storage location taken apart. */
export interface AzureLocation {
  scheme: AzureScheme;
  /** Blob container; ADLS Gen2 calls the same thing a filesystem. */
  container: string;
  accountName: string;
  /** DNS suffix after the service label: `core.windows.net`, or a sovereign cloud's. */
  endpointSuffix: string;
  /** Blob name (or name prefix) without a leading slash; empty for the container root. */
  path: string;
}

const SCHEME_SERVICE: Record<AzureScheme, 'dfs' | 'blob'> = { abfss: 'dfs', abfs: 'dfs', wasbs: 'blob' };
const LOCATION_PATTERN = /^(abfss|abfs|wasbs):\/\/([^@/]*)@([^/]*)(?:\/(.*))?$/s;
const ACCOUNT_PATTERN = /^[a-z0-9]{3,24}$/;
// Container rules from the Blob service: 3-63 chars, lowercase letters, digits and single hyphens, no edge hyphen.
const CONTAINER_PATTERN = /^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SUFFIX_PATTERN = /^[a-z0-9-]+(?:\.[a-z0-9-]+)+$/;
const MAX_BLOB_NAME_LENGTH = 1024;

const EXPECTED = 'expected abfss://<filesystem>@<account>.dfs.core.windows.net/<path> ' + 'or wasbs://<container>@<account>.blob.core.windows.net/<path>';

/** True when the location uses one of the Azure schemes (it may still be malformed). */
export function isAzureLocation(location: string): boolean {
  return /^(abfss|abfs|wasbs):\/\//.test(location);
}

/** Parses an abfss/abfs/wasbs location; throws ValidationError naming what is wrong. */
export function parseAzureLocation(location: string): AzureLocation {
  const match = LOCATION_PATTERN.exec(location);
  if (match === null) throw invalid(location, EXPECTED);
  const scheme = match[1] as AzureScheme;
  const container = match[2] ?? '';
  const host = (match[3] ?? '').toLowerCase();
  const path = match[4] ?? '';
  const service = SCHEME_SERVICE[scheme];

  if (!CONTAINER_PATTERN.test(container)) {
    const rule = '3-63 lowercase letters, digits, hyphens';
    throw invalid(location, `'${container}' is not a valid container/filesystem name (${rule})`);
  }
  const serviceLabel = `.${service}.`;
  const labelAt = host.indexOf(serviceLabel);
  if (labelAt === -1) {
    throw invalid(location, `${scheme}:// needs a host of the form <account>.${service}.core.windows.net`);
  }
  const accountName = host.slice(0, labelAt);
  const endpointSuffix = host.slice(labelAt + serviceLabel.length);
  if (!ACCOUNT_PATTERN.test(accountName)) {
    throw invalid(location, `'${accountName}' is not a valid storage account name (3-24 lowercase letters and digits)`);
  }
  if (!SUFFIX_PATTERN.test(endpointSuffix)) {
    throw invalid(location, `'${endpointSuffix}' is not a valid endpoint suffix`);
  }
  validatePath(location, path);
  return { scheme, container, accountName, endpointSuffix, path };
}

/** Renders a location in the form `parseAzureLocation` reads; the inverse of parsing. */
export function formatAzureLocation(location: AzureLocation): string {
  const service = SCHEME_SERVICE[location.scheme];
  const host = `${location.accountName}.${service}.${location.endpointSuffix}`;
  return `${location.scheme}://${location.container}@${host}/${location.path}`;
}

/**
 * Blob names are taken literally (Hadoop's Path does not decode them either), so anything a URI parser or the
 * service would reinterpret is refused instead of silently naming a different blob than Spark reads.
 */
function validatePath(location: string, path: string): void {
  if (/[?#]/.test(path)) {
    throw invalid(location, 'query strings and fragments are not allowed (credentials go in settings)');
  }
  if (path.includes('\\')) throw invalid(location, 'backslashes are not allowed in paths');
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) throw invalid(location, 'control characters are not allowed in paths');
  if (path.length > MAX_BLOB_NAME_LENGTH) {
    throw invalid(location, `paths are limited to ${MAX_BLOB_NAME_LENGTH} characters`);
  }
  const segments = path.split('/');
  // A trailing slash (a directory prefix) leaves one empty last segment; any other empty segment is a '//'.
  const inner = segments.slice(0, -1);
  if (inner.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw invalid(location, "paths may not contain empty, '.' or '..' segments");
  }
  const last = segments[segments.length - 1];
  if (last === '.' || last === '..') throw invalid(location, "paths may not contain '.' or '..' segments");
}

function invalid(location: string, reason: string): ValidationError {
  return new ValidationError(`Invalid Azure location '${redactLocation(location)}': ${reason}`);
}
