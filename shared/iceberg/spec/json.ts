/**
 * Lossless JSON for Iceberg metadata: integers outside the safe double range are parsed as `bigint`
 * and `bigint` values are written as plain JSON numbers, so 64-bit ids never pass through a double.
 */

/** A JSON value whose integers may be `bigint`. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object whose integers may be `bigint`. */
export type JsonObject = { [key: string]: JsonValue };

/** Parses JSON text; integer literals beyond ±(2^53-1) become `bigint`, everything else is as JSON.parse. */
export function parseJson(text: string): JsonValue {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.value();
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail('unexpected trailing characters');
  return value;
}

/** Serialises a value to JSON; `bigint` is written as a number, `undefined` members are omitted. */
export function stringifyJson(value: unknown, indent = 0): string {
  const out = write(value, indent > 0 ? ' '.repeat(indent) : '', '');
  if (out === undefined) throw new TypeError('value is not serialisable to JSON');
  return out;
}

function write(value: unknown, indent: string, depth: string): string | undefined {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const inner = depth + indent;
  const open = indent ? `\n${inner}` : '';
  const close = indent ? `\n${depth}` : '';
  const sep = indent ? `,\n${inner}` : ',';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item) => write(item, indent, inner) ?? 'null');
    return `[${open}${items.join(sep)}${close}]`;
  }
  const parts: string[] = [];
  for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
    const text = write(member, indent, inner);
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${indent ? ' ' : ''}${text}`);
  }
  if (parts.length === 0) return '{}';
  return `{${open}${parts.join(sep)}${close}}`;
}

/** Reads a 64-bit integer field that may have been parsed as number or bigint. */
export function toBigInt(value: JsonValue | undefined, name: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  throw new TypeError(`${name} must be an integer, got ${JSON.stringify(typeof value === 'bigint' ? String(value) : value)}`);
}

/** Reads a 32-bit (or otherwise double-safe) integer field. */
export function toInt(value: JsonValue | undefined, name: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'bigint') throw new TypeError(`${name} is out of range: ${value}`);
  throw new TypeError(`${name} must be an integer, got ${JSON.stringify(value)}`);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(reason: string): never {
    throw new SyntaxError(`invalid JSON at offset ${this.pos}: ${reason}`);
  }

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  value(): JsonValue {
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    return this.fail(c === undefined ? 'unexpected end' : `unexpected character ${JSON.stringify(c)}`);
  }

  private literal<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return value;
  }

  private number(): number | bigint {
    const match = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    match.lastIndex = this.pos;
    const m = match.exec(this.text);
    if (!m) return this.fail('malformed number');
    this.pos += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const asNumber = Number(m[0]);
      if (Number.isSafeInteger(asNumber)) return asNumber;
      const big = BigInt(m[0]);
      return big > MAX_SAFE || big < -MAX_SAFE ? big : asNumber;
    }
    return Number(m[0]);
  }

  private string(): string {
    // eslint-disable-next-line no-control-regex -- JSON strings may not hold raw control characters: the class excludes them
    const match = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
    match.lastIndex = this.pos;
    const m = match.exec(this.text);
    if (!m) return this.fail('malformed string');
    this.pos += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  private array(): JsonValue[] {
    this.pos++;
    const out: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      out.push(this.value());
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected , or ]');
    }
  }

  private object(): JsonObject {
    this.pos++;
    const out: JsonObject = {};
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail('expected a member name');
      const key = this.string();
      this.skipWhitespace();
      if (this.text[this.pos++] !== ':') this.fail('expected :');
      this.skipWhitespace();
      // Defined, not assigned: a member named __proto__ is data (as JSON.parse keeps it), never the prototype.
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected , or }');
    }
  }
}
