/**
 * Partition directory paths as Java's `PartitionSpec.partitionToPath` writes them
 * (`ts_day=2019-01-01/id_bucket=3`), so our data files sit where Spark's would.
 */
import { ValidationError } from '../../errors';
import type { PartitionSpec } from './partition-spec';
import { humanString, parseTransform } from './transforms';
import { type StructType, isPrimitive } from './types';
import type { Value } from './values';

const HEX = '0123456789ABCDEF';

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2e ||
    code === 0x2d ||
    code === 0x2a ||
    code === 0x5f // . - * _
  );
}

function pushUtf8(out: string[], codePoint: number): void {
  const bytes =
    codePoint < 0x80
      ? [codePoint]
      : codePoint < 0x800
        ? [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f)]
        : codePoint < 0x10000
          ? [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)]
          : [0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 0x3f), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
  for (const b of bytes) out.push('%', HEX[b >> 4]!, HEX[b & 0xf]!);
}

/**
 * `java.net.URLEncoder.encode(s, UTF_8)`: `A-Za-z0-9.-*_` kept, space as `+`, every other byte of the UTF-8 form as
 * `%XX` (upper-case hex). An unpaired surrogate becomes `?` (`%3F`), as Java's UTF-8 encoder replaces it.
 */
export function javaUrlEncode(text: string): string {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isUnreserved(code)) out.push(text[i]!);
    else if (code === 0x20) out.push('+');
    else if (code >= 0xd800 && code <= 0xdbff) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        pushUtf8(out, 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00));
        i++;
      } else pushUtf8(out, 0x3f);
    } else if (code >= 0xdc00 && code <= 0xdfff) pushUtf8(out, 0x3f);
    else pushUtf8(out, code);
  }
  return out.join('');
}

/**
 * The relative directory of a partition: `name=value` per partition field joined by `/`, names and values
 * URL-encoded the way Java does, values rendered by the transform's human string ("null" for null).
 */
export function partitionPath(spec: PartitionSpec, partitionType: StructType, partition: Value[]): string {
  if (partition.length !== spec.fields.length || partitionType.fields.length !== spec.fields.length) {
    throw new ValidationError(
      `partition tuple has ${partition.length} values and its type ${partitionType.fields.length} fields, ` +
        `but spec ${spec['spec-id']} has ${spec.fields.length} fields`,
    );
  }
  return spec.fields
    .map((field, i) => {
      const type = partitionType.fields[i]!.type;
      if (!isPrimitive(type)) throw new ValidationError(`partition field ${field.name} has a non-primitive type`);
      const value = humanString(parseTransform(field.transform), type, partition[i] ?? null);
      return `${javaUrlEncode(field.name)}=${javaUrlEncode(value)}`;
    })
    .join('/');
}
