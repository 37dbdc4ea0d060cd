/**
 * A parser for the subset of GraphQL the Weaviate stand-in answers: one anonymous query of fields with arguments
 * (strings, numbers, enums, lists, objects), nested selections and `... on Type` fragments. Test support only.
 */

/** A field of a selection set. */
export interface GqlField {
  name: string;
  args: Record<string, GqlValue>;
  selections: GqlField[] | undefined;
  /** Set for `... on Type { }`. */
  on?: string;
}

/** An argument value. */
export type GqlValue = string | number | boolean | null | { enum: string } | GqlValue[] | { [key: string]: GqlValue };

const TOKEN = /\s*(?:(\.\.\.)|([{}():,[\]])|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([_A-Za-z][_0-9A-Za-z]*))/y;

/** Parses a query document; throws an Error with the position of what it cannot read. */
export function parseQuery(text: string): GqlField[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const start = TOKEN.lastIndex;
    if (/^\s*$/.test(text.slice(start))) break;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`Syntax Error: unexpected character at ${start}`);
    tokens.push(m[0].trim());
  }
  let at = 0;
  const peek = (): string | undefined => tokens[at];
  const next = (): string => {
    const token = tokens[at++];
    if (token === undefined) throw new Error('Syntax Error: unexpected end of query');
    return token;
  };
  const expect = (token: string): void => {
    const got = next();
    if (got !== token) throw new Error(`Syntax Error: expected ${token}, found ${got}`);
  };
  const skipCommas = (): void => {
    while (peek() === ',') at++;
  };
  const value = (): GqlValue => {
    const token = next();
    if (token === '[') {
      const items: GqlValue[] = [];
      for (skipCommas(); peek() !== ']'; skipCommas()) items.push(value());
      at++;
      return items;
    }
    if (token === '{') {
      const object: Record<string, GqlValue> = {};
      for (skipCommas(); peek() !== '}'; skipCommas()) {
        const name = next();
        expect(':');
        object[name] = value();
      }
      at++;
      return object;
    }
    if (token.startsWith('"')) return JSON.parse(token) as string;
    if (/^-?\d/.test(token)) return Number(token);
    if (token === 'true' || token === 'false') return token === 'true';
    if (token === 'null') return null;
    if (/^[_A-Za-z]/.test(token)) return { enum: token };
    throw new Error(`Syntax Error: unexpected ${token}`);
  };
  const selectionSet = (): GqlField[] => {
    expect('{');
    const fields: GqlField[] = [];
    for (skipCommas(); peek() !== '}'; skipCommas()) {
      if (peek() === '...') {
        at++;
        expect('on');
        const on = next();
        fields.push({ name: '...', on, args: {}, selections: selectionSet() });
        continue;
      }
      const name = next();
      if (!/^[_A-Za-z]/.test(name)) throw new Error(`Syntax Error: unexpected ${name}`);
      const args: Record<string, GqlValue> = {};
      if (peek() === '(') {
        at++;
        for (skipCommas(); peek() !== ')'; skipCommas()) {
          const arg = next();
          expect(':');
          args[arg] = value();
        }
        at++;
      }
      fields.push({ name, args, selections: peek() === '{' ? selectionSet() : undefined });
    }
    at++;
    return fields;
  };
  if (peek() === 'query') {
    at++;
    if (peek() !== '{') at++;
  }
  const document = selectionSet();
  if (at !== tokens.length) throw new Error('Syntax Error: unexpected text after the query');
  return document;
}
