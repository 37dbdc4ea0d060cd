/**
 * Text forms of numbers and bytes exactly as the Java implementation prints them, because partition paths written by
 * Java, Spark and us must agree: `Double.toString`, `Float.toString`, `BigDecimal.toString`, base64.
 */

// Java switches to computerized scientific notation outside [1e-3, 1e7).
function javaDecimalText(sign: string, exponential: string, magnitude: number): string {
  const [mantissa, exp] = exponential.split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const e10 = Number(exp);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    if (e10 < 0) return `${sign}0.${'0'.repeat(-e10 - 1)}${digits}`;
    const whole = digits.slice(0, e10 + 1).padEnd(e10 + 1, '0');
    return `${sign}${whole}.${digits.slice(e10 + 1) || '0'}`;
  }
  return `${sign}${digits[0]}.${digits.slice(1) || '0'}E${e10}`;
}

function special(value: number): string | undefined {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  return undefined;
}

/** Java `Double.toString` (shortest digits that round-trip, as JDK 19+). */
export function javaDoubleToString(value: number): string {
  const s = special(value);
  if (s !== undefined) return s;
  const magnitude = Math.abs(value);
  return javaDecimalText(value < 0 ? '-' : '', magnitude.toExponential(), magnitude);
}

/** Java `Float.toString` of a value already representable as float32 (shortest float digits that round-trip). */
export function javaFloatToString(value: number): string {
  const s = special(value);
  if (s !== undefined) return s;
  const magnitude = Math.abs(value);
  const target = Math.fround(magnitude);
  let exponential = magnitude.toExponential();
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = magnitude.toExponential(digits - 1);
    if (Math.fround(Number(candidate)) === target) {
      exponential = candidate;
      break;
    }
  }
  return javaDecimalText(value < 0 ? '-' : '', exponential, magnitude);
}

/** Java `BigDecimal.toString` of an unscaled value and a non-negative scale (scientific when exponent < -6). */
export function javaBigDecimalToString(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const coefficient = (negative ? -unscaled : unscaled).toString();
  const sign = negative ? '-' : '';
  const adjusted = coefficient.length - 1 - scale;
  if (scale === 0) return sign + coefficient;
  if (adjusted >= -6) {
    const padded = coefficient.padStart(scale + 1, '0');
    const point = padded.length - scale;
    return `${sign}${padded.slice(0, point)}.${padded.slice(point)}`;
  }
  const fraction = coefficient.length > 1 ? `.${coefficient.slice(1)}` : '';
  return `${sign}${coefficient[0]}${fraction}E${adjusted}`;
}

/** Standard base64 with padding, as `java.util.Base64.getEncoder()`. */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
