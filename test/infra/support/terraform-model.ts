/**
 * A Terraform module as the infra checks see it: its declarations (resources, data sources, variables, locals,
 * outputs), every reference in it, and a small evaluator for the literal parts (variable defaults, locals,
 * `each.*`) that the checks read values from. Built on the subset parser of hcl.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { type Block, type Body, type Expr, HclError, parseHcl } from './hcl';

/** The declarations of one module directory. */
export interface TerraformModule {
  /** `type.name` → block, for resources. */
  resources: Map<string, Block>;
  /** `type.name` → block, for data sources. */
  data: Map<string, Block>;
  variables: Map<string, Block>;
  locals: Map<string, Expr>;
  outputs: Map<string, Block>;
  /** Every top-level block with the file it came from. */
  blocks: { file: string; block: Block }[];
}

/** A reference found in the module, where it is, and what it names. */
export interface Reference {
  file: string;
  line: number;
  text: string;
}

/** Reads every `.tf` file of `dir`. */
export function loadModule(dir: string): TerraformModule {
  const sources: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('.tf')) sources[name] = readFileSync(path.join(dir, name), 'utf8');
  }
  return moduleFromSources(sources);
}

/** A module from in-memory files (file name → text). */
export function moduleFromSources(sources: Readonly<Record<string, string>>): TerraformModule {
  const module: TerraformModule = { resources: new Map(), data: new Map(), variables: new Map(), locals: new Map(), outputs: new Map(), blocks: [] };
  for (const [file, text] of Object.entries(sources)) {
    const body = parseHcl(text, file);
    for (const attribute of body.attributes) throw new HclError(`${file}:${attribute.line}: a top-level attribute is not Terraform`);
    for (const block of body.blocks) {
      module.blocks.push({ file, block });
      const [first, second] = block.labels;
      const declare = (map: Map<string, Block>, key: string): void => {
        if (map.has(key)) throw new HclError(`${file}:${block.line}: ${block.type} ${key} is declared twice`);
        map.set(key, block);
      };
      if (block.type === 'resource' && first && second) declare(module.resources, `${first}.${second}`);
      else if (block.type === 'data' && first && second) declare(module.data, `${first}.${second}`);
      else if (block.type === 'variable' && first) declare(module.variables, first);
      else if (block.type === 'output' && first) declare(module.outputs, first);
      else if (block.type === 'locals') {
        for (const attribute of block.body.attributes) {
          if (module.locals.has(attribute.name)) throw new HclError(`${file}:${attribute.line}: local.${attribute.name} is declared twice`);
          module.locals.set(attribute.name, attribute.value);
        }
      }
    }
  }
  return module;
}

/** Names Terraform provides in any expression, or in the blocks that declare them. */
const ALWAYS_ROOTS = new Set(['path', 'terraform']);

/**
 * Every reference that names nothing declared: `var.x` without a variable, `local.x` (and `local.x.y` of an
 * object local) without the local or key, `data.t.n`, `t.n` of a resource, `each` outside a `for_each` block,
 * `count` outside a `count` block, a dynamic block's iterator outside it, and any other root.
 */
export function referenceProblems(module: TerraformModule): string[] {
  const problems: string[] = [];
  for (const { file, block } of module.blocks) {
    const roots = new Set(ALWAYS_ROOTS);
    if (hasAttribute(block.body, 'for_each')) roots.add('each');
    if (hasAttribute(block.body, 'count')) roots.add('count');
    walkBody(block.body, block.type === 'variable' ? 'variable' : 'other', roots, (expr, allowed) => {
      for (const problem of checkReference(module, expr, allowed)) problems.push(`${file}:${expr.line}: ${problem}`);
    });
  }
  return problems;
}

/** Every variable that nothing references. */
export function unusedVariables(module: TerraformModule): string[] {
  const used = new Set<string>();
  for (const { block } of module.blocks) {
    walkBody(block.body, block.type === 'variable' ? 'variable' : 'other', new Set(), (expr) => {
      const first = expr.steps[0];
      if (expr.root === 'var' && first !== undefined && 'name' in first) used.add(first.name);
    });
  }
  return [...module.variables.keys()].filter((name) => !used.has(name));
}

/**
 * Cycles in what depends on what (resources, data sources and locals, through references and `depends_on`), as
 * lists of node names; Terraform refuses a module with one, so `plan` would fail where nothing here can run it.
 */
export function dependencyCycles(module: TerraformModule): string[][] {
  const edges = new Map<string, Set<string>>();
  const nodeOf = (expr: TraversalExpr): string | undefined => {
    const names = expr.steps.map((step) => ('name' in step ? step.name : undefined));
    if (expr.root === 'local' && names[0] !== undefined) return `local.${names[0]}`;
    if (expr.root === 'data' && names[1] !== undefined) return `data.${names[0]}.${names[1]}`;
    if (/^[a-z0-9]+_[a-z0-9_]+$/.test(expr.root) && names[0] !== undefined) return `${expr.root}.${names[0]}`;
    return undefined;
  };
  const collect = (from: string, body: Body): void => {
    const targets = edges.get(from) ?? new Set<string>();
    edges.set(from, targets);
    walkBody(body, 'other', new Set(), (expr) => {
      const node = nodeOf(expr);
      if (node !== undefined) targets.add(node);
    });
  };
  for (const { block } of module.blocks) {
    const [first, second] = block.labels;
    if (block.type === 'resource') collect(`${first}.${second}`, block.body);
    else if (block.type === 'data') collect(`data.${first}.${second}`, block.body);
    else if (block.type === 'locals') for (const a of block.body.attributes) collect(`local.${a.name}`, { attributes: [a], blocks: [] });
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      cycles.push([...path.slice(path.indexOf(node)), node]);
      return;
    }
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) visit(next);
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) visit(node);
  return cycles;
}

type TraversalExpr = Extract<Expr, { kind: 'traversal' }>;

function walkBody(
  body: Body,
  context: 'variable' | 'other',
  roots: ReadonlySet<string>,
  visit: (expr: TraversalExpr, roots: ReadonlySet<string>) => void,
): void {
  for (const attribute of body.attributes) {
    // A variable's type is a type expression, and lifecycle lists attribute names: neither holds references.
    if (context === 'variable' && attribute.name === 'type') continue;
    walkExpr(attribute.value, (expr) => visit(expr, roots));
  }
  for (const block of body.blocks) {
    if (block.type === 'lifecycle') continue;
    const inner = new Set(roots);
    if (block.type === 'dynamic' && block.labels[0] !== undefined) inner.add(block.labels[0]);
    walkBody(block.body, context, inner, visit);
  }
}

/** Calls `visit` for every traversal inside `expr`. */
export function walkExpr(expr: Expr, visit: (expr: TraversalExpr) => void): void {
  switch (expr.kind) {
    case 'literal':
      return;
    case 'template':
      for (const part of expr.parts) if (typeof part !== 'string') walkExpr(part, visit);
      return;
    case 'tuple':
      for (const item of expr.items) walkExpr(item, visit);
      return;
    case 'object':
      for (const item of expr.items) {
        walkExpr(item.key, visit);
        walkExpr(item.value, visit);
      }
      return;
    case 'traversal':
      visit(expr);
      for (const step of expr.steps) if ('index' in step) walkExpr(step.index, visit);
      return;
    case 'index':
      walkExpr(expr.target, visit);
      for (const step of expr.steps) if ('index' in step) walkExpr(step.index, visit);
      return;
    case 'call':
      for (const arg of expr.args) walkExpr(arg, visit);
      return;
    case 'unary':
      walkExpr(expr.operand, visit);
      return;
    case 'binary':
      walkExpr(expr.left, visit);
      walkExpr(expr.right, visit);
      return;
    case 'conditional':
      walkExpr(expr.test, visit);
      walkExpr(expr.then, visit);
      walkExpr(expr.otherwise, visit);
      return;
  }
}

function checkReference(module: TerraformModule, expr: TraversalExpr, roots: ReadonlySet<string>): string[] {
  const names = expr.steps.map((step) => ('name' in step ? step.name : undefined));
  const text = [expr.root, ...names.map((n) => n ?? '[…]')].join('.');
  if (roots.has(expr.root)) return [];
  switch (expr.root) {
    case 'var':
      return names[0] !== undefined && module.variables.has(names[0]) ? [] : [`${text}: no such variable`];
    case 'local': {
      const local = names[0] === undefined ? undefined : module.locals.get(names[0]);
      if (local === undefined) return [`${text}: no such local`];
      const key = names[1];
      if (key !== undefined && local.kind === 'object' && !local.items.some((item) => item.key.kind === 'literal' && item.key.value === key)) {
        return [`${text}: local.${names[0]} has no key ${key}`];
      }
      return [];
    }
    case 'data':
      return module.data.has(`${names[0]}.${names[1]}`) ? [] : [`${text}: no such data source`];
    case 'each':
      return [`${text}: each outside a for_each block`];
    case 'count':
      return [`${text}: count outside a count block`];
    default:
      if (/^[a-z0-9]+_[a-z0-9_]+$/.test(expr.root)) {
        return module.resources.has(`${expr.root}.${names[0]}`) ? [] : [`${text}: no such resource`];
      }
      return [`${text}: unknown name ${expr.root}`];
  }
}

function hasAttribute(body: Body, name: string): boolean {
  return body.attributes.some((attribute) => attribute.name === name);
}

/** The value of an attribute of a body, or undefined. */
export function attribute(body: Body, name: string): Expr | undefined {
  return body.attributes.find((a) => a.name === name)?.value;
}

/** The keys of an object expression, evaluated; its values (which may be known only after apply) are left alone. */
export function objectKeys(expr: Expr, scope: Scope): string[] {
  if (expr.kind !== 'object') throw new Error(`expected an object, found a ${expr.kind}`);
  return expr.items.map((item) => String(evaluate(item.key, scope)));
}

/** What `evaluate` can see: variable defaults, locals (evaluated on demand) and `each`. */
export interface Scope {
  module: TerraformModule;
  each?: { key: string; value: unknown };
}

/**
 * Evaluates the literal parts of the template: literals, templates, tuples, objects, `var.*` (their defaults),
 * `local.*`, `each.*`, conditionals, operators and a few functions. A resource attribute (known only after apply)
 * or anything else is an error, so a check cannot read a value it did not understand.
 */
export function evaluate(expr: Expr, scope: Scope): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'template':
      return expr.parts.map((part) => (typeof part === 'string' ? part : String(evaluate(part, scope)))).join('');
    case 'tuple':
      return expr.items.map((item) => evaluate(item, scope));
    case 'object':
      return Object.fromEntries(expr.items.map((item) => [String(evaluate(item.key, scope)), evaluate(item.value, scope)]));
    case 'traversal':
      return expr.steps.reduce<unknown>((value, step) => stepInto(value, 'name' in step ? step.name : evaluate(step.index, scope)), root(expr, scope));
    case 'index':
      return expr.steps.reduce<unknown>(
        (value, step) => stepInto(value, 'name' in step ? step.name : evaluate(step.index, scope)),
        evaluate(expr.target, scope),
      );
    case 'call':
      return call(
        expr.name,
        expr.args.map((arg) => evaluate(arg, scope)),
      );
    case 'unary':
      return expr.op === '!' ? !evaluate(expr.operand, scope) : -Number(evaluate(expr.operand, scope));
    case 'binary':
      return binary(expr.op, evaluate(expr.left, scope), evaluate(expr.right, scope));
    case 'conditional':
      return evaluate(expr.test, scope) === true ? evaluate(expr.then, scope) : evaluate(expr.otherwise, scope);
  }
}

/** The namespace object a traversal starts from; its steps (the first one the name) are taken from there. */
function root(expr: TraversalExpr, scope: Scope): unknown {
  const first = expr.steps[0];
  const name = first !== undefined && 'name' in first ? first.name : undefined;
  if (expr.root === 'each' && scope.each !== undefined) return scope.each;
  if (expr.root === 'var' && name !== undefined) {
    const variable = scope.module.variables.get(name);
    const fallback = variable === undefined ? undefined : attribute(variable.body, 'default');
    if (fallback === undefined) throw new Error(`var.${name} has no default to evaluate`);
    return { [name]: evaluate(fallback, scope) };
  }
  if (expr.root === 'local' && name !== undefined) {
    const local = scope.module.locals.get(name);
    if (local === undefined) throw new Error(`local.${name} is not declared`);
    return { [name]: evaluate(local, scope) };
  }
  throw new Error(`cannot evaluate ${expr.root}.${name ?? ''} without applying the template`);
}

function stepInto(value: unknown, key: unknown): unknown {
  if (value === null || typeof value !== 'object') throw new Error(`cannot take ${String(key)} of ${JSON.stringify(value)}`);
  // An object type's optional attribute that a value leaves out is null, as Terraform fills it in.
  return (value as Record<string, unknown>)[String(key)] ?? null;
}

function call(name: string, args: unknown[]): unknown {
  switch (name) {
    case 'jsonencode':
      return JSON.stringify(args[0]);
    case 'tostring':
      return String(args[0]);
    case 'lower':
      return String(args[0]).toLowerCase();
    case 'join':
      return (args[1] as unknown[]).join(String(args[0]));
    case 'formatlist':
      return (args[1] as unknown[]).map((item) => String(args[0]).replace('%s', String(item)));
    default:
      throw new Error(`the evaluator does not know ${name}()`);
  }
}

function binary(op: string, left: unknown, right: unknown): unknown {
  switch (op) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '&&':
      return left === true && right === true;
    case '||':
      return left === true || right === true;
    case '+':
      return Number(left) + Number(right);
    case '-':
      return Number(left) - Number(right);
    case '*':
      return Number(left) * Number(right);
    case '/':
      return Number(left) / Number(right);
    default:
      throw new Error(`the evaluator does not know ${op}`);
  }
}
