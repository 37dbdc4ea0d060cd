/**
 * The constructs that make code depend on more than its inputs: clocks, randomness, the environment, timers, the
 * process and dynamic loading. Orchestrators are replayed from their history over and over, so they must not use
 * them (ARCHITECTURE.md §2). Read from the syntax tree, so comments and strings cannot trigger a finding and formatting
 * cannot hide one. Imports are judged from the import graph instead (see rules.ts).
 */
import * as ts from 'typescript';

/** One forbidden construct: its 1-based line and what it is. */
export interface SyntaxFinding {
  /** 1-based line of the construct. */
  readonly line: number;
  /** What was found, e.g. `Date.now` or `dynamic import()`. */
  readonly what: string;
}

/** Globals that reach the clock, randomness, timers, the network or the process. */
const FORBIDDEN_GLOBALS = new Set([
  'process',
  'require',
  'fetch',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'performance',
  'crypto',
  'Buffer',
  'globalThis',
  'XMLHttpRequest',
  'WebSocket',
]);

/** Every clock, randomness, environment, timer, process or dynamic-loading construct in a parsed file. */
export function findImpureSyntax(source: ts.SourceFile): SyntaxFinding[] {
  const found: SyntaxFinding[] = [];
  const report = (node: ts.Node, what: string): void => {
    found.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, what });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      report(node, 'dynamic import()');
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const access = `${node.expression.text}.${node.name.text}`;
      if (access === 'Date.now' || access === 'Math.random' || access === 'process.env') report(node, access);
    } else if (ts.isElementAccessExpression(node) && ts.isIdentifier(node.expression) && (node.expression.text === 'Date' || node.expression.text === 'Math')) {
      report(node, `${node.expression.text}[...]`);
    } else if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === 'Date') {
      report(node, ts.isNewExpression(node) ? 'new Date(...)' : 'Date()');
    } else if (ts.isIdentifier(node) && FORBIDDEN_GLOBALS.has(node.text) && isGlobalReference(node)) {
      report(node, node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** True when an identifier is read as a value, not a property name, a declaration or a type. */
function isGlobalReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (
    (ts.isPropertyAccessExpression(parent) ||
      ts.isPropertyAssignment(parent) ||
      ts.isPropertySignature(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isMethodDeclaration(parent)) &&
    parent.name === node
  )
    return false;
  if ((ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isFunctionDeclaration(parent) || ts.isBindingElement(parent)) && parent.name === node)
    return false;
  if (ts.isImportSpecifier(parent) || ts.isTypeReferenceNode(parent) || ts.isQualifiedName(parent)) return false;
  return true;
}
