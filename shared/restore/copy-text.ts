/**
 * The inverse of the copy's mapping: an Iceberg value back to the text PostgreSQL's input function reads as the
 * value the copy read, written as one field of `COPY … FROM STDIN` (text format). Every decode plan prints its
 * values the way PostgreSQL prints them (text-rendering.ts, the same code the verifier compares with), and
 * PostgreSQL's input functions read their own output exactly: the text of a `::text` column is the value's own
 * output, numerics keep every digit, floats are the shortest text that reads back to the same bits, timestamps
 * carry microseconds and `+00`, bytea is hex. What a plan cannot give back exactly is refused before anything is
 * written (restorability).
 */
import type { DecodePlan } from '../postgres/decode-plan';
import { renderForComparison } from '../postgres/text-rendering';
import type { Value } from '../iceberg/spec/values';

/** Turns one value into its COPY text field (`\N` for NULL, backslash escapes applied). */
export type FieldEncoder = (value: Value) => string;

/**
 * Why values of this plan cannot be restored exactly, or undefined when they can. A ±infinity stand-in stored
 * a chosen date or time in place of infinity: the restore could not tell it from a real value of that day.
 */
export function unrestorableReason(plan: DecodePlan): string | undefined {
  switch (plan.kind) {
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return plan.infinity === undefined ? undefined : 'its ±infinity values were stored as stand-in values, which cannot be told from real ones';
    case 'array':
      return unrestorableReason(plan.element);
    case 'composite':
      for (const field of plan.fields) {
        const reason = unrestorableReason(field.plan);
        if (reason !== undefined) return reason;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** The encoder of one column's values. */
export function fieldEncoder(plan: DecodePlan): FieldEncoder {
  return (value) => {
    const text = renderForComparison(plan, value);
    return text === null ? '\\N' : escapeCopyText(text);
  };
}

/** One row as a COPY text line: fields tab-separated, newline-terminated. */
export function encodeRow(encoders: readonly FieldEncoder[], row: readonly Value[]): string {
  let line = '';
  for (let i = 0; i < encoders.length; i++) {
    if (i > 0) line += '\t';
    line += encoders[i]!(row[i] ?? null);
  }
  return `${line}\n`;
}

/** COPY text format: backslash, newline, carriage return and tab are escaped; everything else is taken literally. */
export function escapeCopyText(text: string): string {
  if (!/[\\\n\r\t]/.test(text)) return text;
  return text.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}
