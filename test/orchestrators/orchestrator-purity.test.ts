/**
 * Orchestrators are replayed from their history over and over, so they must not read clocks, random numbers, the
 * environment or anything outside (ARCHITECTURE.md §2). This scans the syntax of every file in orchestrators/ —
 * comments and strings cannot trigger it, and formatting cannot hide a call — for the constructs that do.
 */
import { builtinModules } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ORCHESTRATORS = path.resolve(__dirname, '../../orchestrators');

/** Packages whose import means I/O: node built-ins, drivers and SDKs. */
const IO_PACKAGES = /^(node:|pg($|-)|@azure\/(?!functions$)|@aws-sdk\/|axios$|undici$|kafkajs$|@clickhouse\/)/;
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]!]));
/** Globals that reach the clock, randomness, timers, the network or the process. */
const FORBIDDEN_GLOBALS = new Set(['process', 'require', 'fetch', 'setTimeout', 'setInterval', 'setImmediate', 'performance', 'crypto', 'Buffer', 'globalThis', 'XMLHttpRequest', 'WebSocket']);

/** The forbidden constructs in one source text, as `line: what` strings. */
function findImpurities(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const report = (node: ts.Node, what: string): void => {
    found.push(`${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}: ${what}`);
  };
  const checkModule = (node: ts.Node, specifier: string, typeOnly: boolean): void => {
    if (typeOnly) return;
    if (IO_PACKAGES.test(specifier) || BUILTINS.has(specifier)) report(node, `imports ${specifier}`);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      checkModule(node, node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      checkModule(node, node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      checkModule(node, node.moduleReference.expression.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
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
  if ((ts.isPropertyAccessExpression(parent) || ts.isPropertyAssignment(parent) || ts.isPropertySignature(parent) || ts.isPropertyDeclaration(parent) || ts.isMethodDeclaration(parent)) && parent.name === node) return false;
  if ((ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isFunctionDeclaration(parent) || ts.isBindingElement(parent)) && parent.name === node) return false;
  if (ts.isImportSpecifier(parent) || ts.isTypeReferenceNode(parent) || ts.isQualifiedName(parent)) return false;
  return true;
}

function orchestratorFiles(): string[] {
  return readdirSync(ORCHESTRATORS, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.(ts|js|mts|cts)$/.test(file) && !file.endsWith('.d.ts'))
    .map((file) => path.join(ORCHESTRATORS, file));
}

describe('orchestrator purity', () => {
  it('finds no clock, randomness, environment, timers or I/O in orchestrators/', () => {
    const files = orchestratorFiles();
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['migrate-database.ts', 'migrate-table.ts', 'names.ts', 'retry-policy.ts']));
    const problems = files.flatMap((file) => findImpurities(file, readFileSync(file, 'utf8')).map((p) => `${path.relative(ORCHESTRATORS, file)}:${p}`));
    expect(problems).toEqual([]);
  });

  it('catches each forbidden construct, and not the same words in comments, strings or types', () => {
    const impure = [
      "import { readFile } from 'node:fs/promises';",
      "import * as fs from 'fs';",
      "import { Client } from 'pg';",
      "const fs2 = require('fs');",
      'const a = Date.now();',
      'const b = new Date();',
      'const c = Date();',
      'const d = Math.random();',
      'const e = process.env.ICEBRIDGE_WAREHOUSE;',
      'setTimeout(() => undefined, 10);',
      'const f = Date  .  now();',
      "const g = Math['random']();",
      'const h = crypto.randomUUID();',
      "const i = import('node:fs');",
    ];
    expect(findImpurities('impure.ts', impure.join('\n')).map((p) => Number(p.split(':')[0]))).toEqual(
      // Line 4 reports `require` as a global; line 13 `crypto`.
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 10, 11, 12, 13, 14],
    );
    const pure = [
      '// Date.now() and Math.random() are not allowed here; use context.df.currentUtcDateTime.',
      "const note = 'new Date( process.env Math.random';",
      "import type { Client } from 'pg';",
      'const when = context.df.currentUtcDateTime;',
      'const shape = { process: 1, setTimeout: 2 };',
      'type T = { crypto: string };',
    ];
    expect(findImpurities('pure.ts', pure.join('\n'))).toEqual([]);
  });
});
