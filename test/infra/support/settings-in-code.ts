/**
 * The settings the deployed code reads, found in its source rather than listed by hand: the compiler's scanner
 * walks every token of shared/, functions/ and orchestrators/ (what the function app runs; comments and
 * documentation cannot contribute), and a setting is
 *   - a string literal shaped like a setting name of the app or the platform (ICEBRIDGE_*, APPLICATIONINSIGHTS_*,
 *     AzureWebJobs*, WEBSITE_*, FUNCTIONS_*, AZURE_*, the libpq PG* variables): the settings modules name them
 *     in constants (`SETTING_NAMES`, `FLAG_SETTING_NAMES`, …) that the readers index `env` with;
 *   - any name read from an environment object directly: `env.NAME`, `process.env.NAME`, `env['NAME']`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/** The shape of a setting name, for string literals. */
export const SETTING_NAME_SHAPE =
  /^(ICEBRIDGE_[A-Z0-9_]+|APPLICATIONINSIGHTS_[A-Z0-9_]+|AzureWebJobs[A-Za-z0-9_]*|WEBSITE_[A-Z0-9_]+|FUNCTIONS_[A-Z0-9_]+|AZURE_[A-Z0-9_]+|PG[A-Z]+)$/;

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

/** The folders of the code the function app runs. */
export const DEPLOYED_ROOTS = ['shared', 'functions', 'orchestrators'];

/** Settings read by `sources` (file → text), each with the first file that reads it. */
export function settingsReadBy(sources: ReadonlyMap<string, string>): Map<string, string> {
  const found = new Map<string, string>();
  for (const [file, text] of sources) {
    const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
    const recent: { kind: ts.SyntaxKind; text: string }[] = [];
    // Open `${` of template literals, by the brace depth they opened at: their `}` resumes the template.
    const templates: number[] = [];
    let depth = 0;
    for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
      if (kind === ts.SyntaxKind.CloseBraceToken && templates.at(-1) === depth) {
        kind = scanner.reScanTemplateToken(false);
        if (kind === ts.SyntaxKind.TemplateTail) templates.pop();
      } else if (kind === ts.SyntaxKind.OpenBraceToken) depth++;
      else if (kind === ts.SyntaxKind.CloseBraceToken) depth--;
      else if (kind === ts.SyntaxKind.TemplateHead) templates.push(depth);
      const isString = kind === ts.SyntaxKind.StringLiteral || kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral;
      const token = { kind, text: isString ? scanner.getTokenValue() : scanner.getTokenText() };
      const [before2, before1] = [recent.at(-2), recent.at(-1)];
      const fromEnv = before2?.text === 'env';
      if (isString && SETTING_NAME_SHAPE.test(token.text)) add(found, token.text, file);
      // `env.x` is also how code reaches a run's environment object; environment variables are upper case.
      if (kind === ts.SyntaxKind.Identifier && before1?.kind === ts.SyntaxKind.DotToken && fromEnv && ENV_NAME.test(token.text)) add(found, token.text, file);
      if (isString && before1?.kind === ts.SyntaxKind.OpenBracketToken && fromEnv) add(found, token.text, file);
      recent.push(token);
      if (recent.length > 4) recent.shift();
    }
  }
  return found;
}

/** The deployed code's sources under `root`, by repository-relative path. */
export function deployedSources(root: string): Map<string, string> {
  const sources = new Map<string, string>();
  for (const top of DEPLOYED_ROOTS) {
    for (const file of readdirSync(path.join(root, top), { recursive: true, encoding: 'utf8' })) {
      if (file.endsWith('.ts') && !file.endsWith('.d.ts'))
        sources.set(path.posix.join(top, file.split(path.sep).join('/')), readFileSync(path.join(root, top, file), 'utf8'));
    }
  }
  return sources;
}

function add(found: Map<string, string>, name: string, file: string): void {
  if (!found.has(name)) found.set(name, file);
}
