/**
 * A parser for the subset of HCL (Terraform's native syntax) that infra/terraform/ uses, so the template can be
 * checked here, where no npm HCL parser is installed and `terraform validate` cannot download the provider.
 *
 * Supported: blocks with quoted or bare labels; attributes; comments (`#`, `//`, `/* *\/`); strings with `${…}`
 * interpolation and the `$${` escape; heredocs (`<<EOT`, `<<-EOT`) with interpolation; numbers, booleans, null;
 * tuples and objects (`=` or `:`, commas or newlines); traversals with `.name` and `[index]`; function calls;
 * unary `!` and `-`; binary operators with HCL's precedence; the conditional `a ? b : c`.
 * Refused with an error naming the line (so the checks can never silently skip part of the template): `for`
 * expressions, splats, template directives (`%{…}`), and anything else outside that list.
 */

/** An expression of the subset. */
export type Expr =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'template'; parts: (string | Expr)[] }
  | { kind: 'tuple'; items: Expr[] }
  | { kind: 'object'; items: { key: Expr; value: Expr }[] }
  | { kind: 'traversal'; root: string; steps: Step[]; line: number }
  | { kind: 'index'; target: Expr; steps: Step[] }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'unary'; op: '!' | '-'; operand: Expr }
  | { kind: 'binary'; op: string; left: Expr; right: Expr }
  | { kind: 'conditional'; test: Expr; then: Expr; otherwise: Expr };

/** One step of a traversal: an attribute name or an index expression. */
export type Step = { name: string } | { index: Expr };

/** A block: `type "label" … { body }`. */
export interface Block {
  type: string;
  labels: string[];
  body: Body;
  line: number;
}

/** The attributes and nested blocks of a file or a block, in source order. */
export interface Body {
  attributes: { name: string; value: Expr; line: number }[];
  blocks: Block[];
}

/** A parse failure, with the file and line. */
export class HclError extends Error {}

const BINARY_LEVELS: string[][] = [['||'], ['&&'], ['==', '!='], ['<=', '>=', '<', '>'], ['+', '-'], ['*', '/', '%']];

/** Parses one file of the subset; throws HclError naming `file` and the line of anything outside it. */
export function parseHcl(text: string, file = '<hcl>'): Body {
  return new Parser(text, file).parseFile();
}

class Parser {
  private at = 0;
  /** Brackets open around the current expression: newlines are blanks inside them and ends outside. */
  private nesting = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  parseFile(): Body {
    const body = this.body();
    this.blank(true);
    if (this.at < this.text.length) this.fail('unexpected "}"');
    return body;
  }

  private body(): Body {
    const body: Body = { attributes: [], blocks: [] };
    for (;;) {
      this.blank(true);
      if (this.at >= this.text.length || this.peek('}')) return body;
      const line = this.line();
      const name = this.identifier();
      this.blank(false);
      if (this.peek('=') && !this.peek('==')) {
        this.at++;
        body.attributes.push({ name, value: this.expression(), line });
        this.endOfLine();
        continue;
      }
      const labels: string[] = [];
      while (!this.peek('{')) {
        labels.push(this.peek('"') ? this.quotedLabel() : this.identifier());
        this.blank(false);
      }
      this.at++;
      const saved = this.nesting;
      this.nesting = 0;
      const inner = this.body();
      this.nesting = saved;
      this.expect('}');
      body.blocks.push({ type: name, labels, body: inner, line });
      this.endOfLine();
    }
  }

  private endOfLine(): void {
    this.blank(false);
    if (this.at >= this.text.length || this.peek('}')) return;
    if (this.text[this.at] !== '\n') this.fail('expected the end of the line');
  }

  private expression(): Expr {
    const test = this.binary(0);
    this.blank();
    if (!this.peek('?')) return test;
    this.at++;
    const then = this.expression();
    this.blank();
    this.expect(':');
    return { kind: 'conditional', test, then, otherwise: this.expression() };
  }

  private binary(level: number): Expr {
    if (level === BINARY_LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      this.blank();
      const op = BINARY_LEVELS[level]!.find((candidate) => this.peek(candidate) && !(candidate === '<' && this.peek('<<')));
      if (op === undefined) return left;
      this.at += op.length;
      left = { kind: 'binary', op, left, right: this.binary(level + 1) };
    }
  }

  private unary(): Expr {
    this.blank();
    if (this.peek('!') && !this.peek('!=')) {
      this.at++;
      return { kind: 'unary', op: '!', operand: this.unary() };
    }
    if (this.peek('-') && !/\d/.test(this.text[this.at + 1] ?? '')) {
      this.at++;
      return { kind: 'unary', op: '-', operand: this.unary() };
    }
    return this.postfix(this.primary());
  }

  private postfix(target: Expr): Expr {
    const steps: Step[] = [];
    for (;;) {
      if (this.peek('.')) {
        this.at++;
        if (this.peek('*')) this.fail('splat expressions are not in the supported subset');
        steps.push({ name: /\d/.test(this.text[this.at] ?? '') ? this.number().toString() : this.identifier() });
      } else if (this.peek('[')) {
        this.at++;
        this.nesting++;
        this.blank();
        if (this.peek('*')) this.fail('splat expressions are not in the supported subset');
        const index = this.expression();
        this.blank();
        this.expect(']');
        this.nesting--;
        steps.push({ index });
      } else break;
    }
    if (steps.length === 0) return target;
    if (target.kind === 'traversal') return { ...target, steps: [...target.steps, ...steps] };
    return { kind: 'index', target, steps };
  }

  private primary(): Expr {
    this.blank();
    const c = this.text[this.at];
    if (c === '"') return this.quoted();
    if (this.peek('<<')) return this.heredoc();
    if (c === '[') return this.tuple();
    if (c === '{') return this.object();
    if (c === '(') {
      this.at++;
      this.nesting++;
      const inner = this.expression();
      this.blank();
      this.expect(')');
      this.nesting--;
      return inner;
    }
    if (c !== undefined && /[-\d]/.test(c)) return { kind: 'literal', value: this.number() };
    const line = this.line();
    const name = this.identifier();
    if (name === 'true' || name === 'false') return { kind: 'literal', value: name === 'true' };
    if (name === 'null') return { kind: 'literal', value: null };
    if (name === 'for') this.fail('for expressions are not in the supported subset');
    if (this.peek('(')) {
      this.at++;
      this.nesting++;
      const args: Expr[] = [];
      for (;;) {
        this.blank();
        if (this.peek(')')) break;
        args.push(this.expression());
        this.blank();
        if (this.peek('...')) this.fail('argument expansion is not in the supported subset');
        if (this.peek(',')) this.at++;
        else break;
      }
      this.blank();
      this.expect(')');
      this.nesting--;
      return { kind: 'call', name, args };
    }
    return { kind: 'traversal', root: name, steps: [], line };
  }

  private tuple(): Expr {
    this.at++;
    this.nesting++;
    const items: Expr[] = [];
    for (;;) {
      this.blank();
      if (this.peek(']')) break;
      items.push(this.expression());
      this.blank();
      if (this.peek(',')) this.at++;
      else break;
    }
    this.blank();
    this.expect(']');
    this.nesting--;
    return { kind: 'tuple', items };
  }

  private object(): Expr {
    this.at++;
    this.nesting++;
    const items: { key: Expr; value: Expr }[] = [];
    for (;;) {
      this.blank();
      if (this.peek('}')) break;
      const keyStart = this.at;
      // A bare key is a name, not a reference; a quoted or parenthesised one is an expression.
      const key: Expr = /[A-Za-z_]/.test(this.text[this.at] ?? '') ? { kind: 'literal', value: this.identifier() } : this.primary();
      this.blank();
      if (this.peek('=') || this.peek(':')) this.at++;
      else {
        this.at = keyStart;
        this.fail('expected "=" or ":" after an object key');
      }
      items.push({ key, value: this.expression() });
      this.blank();
      if (this.peek(',')) this.at++;
    }
    this.expect('}');
    this.nesting--;
    return { kind: 'object', items };
  }

  private quoted(): Expr {
    this.at++;
    const parts = this.templateUntil((at) => this.text[at] === '"', true);
    this.expect('"');
    return { kind: 'template', parts };
  }

  private quotedLabel(): string {
    const template = this.quoted();
    if (template.kind !== 'template' || template.parts.some((p) => typeof p !== 'string')) this.fail('a block label cannot interpolate');
    return (template as { parts: string[] }).parts.join('');
  }

  private heredoc(): Expr {
    const match = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)\n/.exec(this.text.slice(this.at));
    if (match === null) this.fail('malformed heredoc');
    const [opening, indent, marker] = match as unknown as [string, string, string];
    this.at += opening.length;
    const closing = new RegExp(`^[ \\t]*${marker}\\s*$`);
    const lines: string[] = [];
    for (;;) {
      const end = this.text.indexOf('\n', this.at);
      if (end === -1) this.fail(`heredoc ${marker} is not closed`);
      const line = this.text.slice(this.at, end);
      if (closing.test(line)) {
        this.at += line.length;
        break;
      }
      lines.push(line);
      this.at = end + 1;
    }
    const margin = indent === '-' ? Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length)) : 0;
    const body = lines.map((l) => l.slice(margin)).join('\n') + '\n';
    return { kind: 'template', parts: new Parser(body, this.file).templateUntil((at, text) => at >= text.length, false) };
  }

  /** Template text up to where `stop` says, as literal parts and interpolated expressions. */
  templateUntil(stop: (at: number, text: string) => boolean, quoted: boolean): (string | Expr)[] {
    const parts: (string | Expr)[] = [];
    let literal = '';
    while (!stop(this.at, this.text)) {
      if (this.at >= this.text.length || (quoted && this.text[this.at] === '\n')) this.fail('unterminated string');
      if (this.text.startsWith('$${', this.at) || this.text.startsWith('%%{', this.at)) {
        literal += this.text.slice(this.at + 1, this.at + 3);
        this.at += 3;
      } else if (this.text.startsWith('${', this.at)) {
        if (literal !== '') parts.push(literal);
        literal = '';
        this.at += 2;
        const saved = this.nesting;
        this.nesting = 1;
        parts.push(this.expression());
        this.blank();
        this.expect('}');
        this.nesting = saved;
      } else if (this.text.startsWith('%{', this.at)) {
        this.fail('template directives are not in the supported subset');
      } else if (quoted && this.text[this.at] === '\\') {
        const next = this.text[this.at + 1] ?? '';
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
        if (simple[next] !== undefined) {
          literal += simple[next];
          this.at += 2;
        } else if (next === 'u') {
          literal += String.fromCharCode(parseInt(this.text.slice(this.at + 2, this.at + 6), 16));
          this.at += 6;
        } else this.fail(`unknown escape \\${next}`);
      } else {
        literal += this.text[this.at];
        this.at++;
      }
    }
    if (literal !== '') parts.push(literal);
    return parts;
  }

  private number(): number {
    const match = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(this.text.slice(this.at));
    if (match === null) this.fail('expected a number');
    this.at += match[0].length;
    return Number(match[0]);
  }

  private identifier(): string {
    const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.at));
    if (match === null) this.fail(`unexpected ${JSON.stringify(this.text.slice(this.at, this.at + 12))}`);
    this.at += match[0].length;
    return match[0];
  }

  /** Skips blanks and comments; newlines too when asked or inside brackets. */
  private blank(newlines = this.nesting > 0): void {
    for (;;) {
      const c = this.text[this.at];
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) this.at++;
      else if (c === '#' || this.peek('//')) {
        while (this.at < this.text.length && this.text[this.at] !== '\n') this.at++;
      } else if (this.peek('/*')) {
        const end = this.text.indexOf('*/', this.at + 2);
        if (end === -1) this.fail('unterminated comment');
        this.at = end + 2;
      } else return;
    }
  }

  private peek(token: string): boolean {
    return this.text.startsWith(token, this.at);
  }

  private expect(token: string): void {
    if (!this.peek(token)) this.fail(`expected "${token}"`);
    this.at += token.length;
  }

  private line(): number {
    return this.text.slice(0, this.at).split('\n').length;
  }

  private fail(message: string): never {
    throw new HclError(`${this.file}:${this.line()}: ${message}`);
  }
}
