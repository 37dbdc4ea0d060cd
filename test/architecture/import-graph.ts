/**
 * The import graph of a set of TypeScript sources, as a pure function of a map from repository-relative path to text,
 * so the folder rules can be run on small in-memory trees that break them as well as on the real one.
 *
 * Specifiers come from `ts.preProcessFile`, the compiler's own scanner: comments and strings cannot produce one and
 * formatting cannot hide one, and it sees every form a module is named in (`import`, `export ... from`,
 * `import x = require()`, `import()`, `require()`, `typeof import()`, `declare module`). The syntax tree then says
 * which of them are type-only, i.e. erased from the emitted JavaScript.
 */
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import * as ts from 'typescript';

/** What an import names: a file of the map, a package, a Node built-in, or a relative path that is not in the map. */
export type ImportTarget =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'package'; readonly name: string }
  | { readonly kind: 'builtin'; readonly name: string }
  | { readonly kind: 'unresolved'; readonly path: string };

/** One module specifier in one file, where it is and what it resolves to. */
export interface ImportSite {
  /** The importing file (repository-relative, `/`-separated). */
  readonly from: string;
  /** The specifier as written. */
  readonly specifier: string;
  /** 1-based line of the specifier. */
  readonly line: number;
  /** True when the import is erased from the emitted JavaScript (`import type`, `typeof import()`, ...). */
  readonly typeOnly: boolean;
  /** What the specifier resolves to. */
  readonly target: ImportTarget;
}

/** Every file of a source map and every import in them, in file order then source order. */
export interface ImportGraph {
  /** The files, sorted. */
  readonly files: readonly string[];
  /** The parsed source of each file, for rules that look past imports. */
  readonly sources: ReadonlyMap<string, ts.SourceFile>;
  /** Every import site. */
  readonly imports: readonly ImportSite[];
}

/** One edge of the folder graph, with the file-level imports that make it. */
export interface FolderEdge {
  /** The importing folder. */
  readonly from: string;
  /** The imported folder. */
  readonly to: string;
  /** The imports behind the edge, value imports first. */
  readonly sites: readonly ImportSite[];
}

/** A strongly connected set of folders (more than one) and the edges between them. */
export interface FolderCycle {
  /** The folders, sorted. */
  readonly folders: readonly string[];
  /** The edges among them, sorted by folder names. */
  readonly edges: readonly FolderEdge[];
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]!]));
/** What a `.js`-style specifier (as `module: node16` wants them written) is compiled from. */
const SOURCE_EXTENSIONS: Readonly<Record<string, string>> = { '.js': '.ts', '.mjs': '.mts', '.cjs': '.cts' };

/** Parses and resolves every import of every file; `files` maps `/`-separated repository-relative paths to text. */
export function buildImportGraph(files: ReadonlyMap<string, string> | Readonly<Record<string, string>>): ImportGraph {
  const texts: ReadonlyMap<string, string> = files instanceof Map ? (files as ReadonlyMap<string, string>) : new Map(Object.entries(files));
  const names = [...texts.keys()].sort(compare);
  const known = new Set(names);
  const sources = new Map<string, ts.SourceFile>();
  const imports: ImportSite[] = [];
  for (const file of names) {
    const text = texts.get(file)!;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    sources.set(file, source);
    const typeOnlyAt = typeOnlySpecifiers(source);
    // Ambient `declare module` names come after the imports in the scanner's answer; keep source order.
    for (const found of [...ts.preProcessFile(text, true, true).importedFiles].sort((a, b) => a.pos - b.pos)) {
      imports.push({
        from: file,
        specifier: found.fileName,
        line: source.getLineAndCharacterOfPosition(found.pos).line + 1,
        typeOnly: typeOnlyAt.has(found.pos),
        target: resolve(file, found.fileName, known),
      });
    }
  }
  return { files: names, sources, imports };
}

/** The folder a file sits directly in (`shared/migrate/plan.ts` → `shared/migrate`). */
export function folderOf(file: string): string {
  return path.posix.dirname(file);
}

/** The folder graph: an edge A→B when a file directly in A imports a file directly in B, A ≠ B. */
export function folderEdges(graph: ImportGraph): FolderEdge[] {
  const edges = new Map<string, { from: string; to: string; sites: ImportSite[] }>();
  for (const site of graph.imports) {
    if (site.target.kind !== 'file') continue;
    const from = folderOf(site.from);
    const to = folderOf(site.target.path);
    if (from === to) continue;
    const key = `${from}\0${to}`;
    const edge = edges.get(key) ?? { from, to, sites: [] };
    edge.sites.push(site);
    edges.set(key, edge);
  }
  return [...edges.values()]
    .map((e) => ({ ...e, sites: [...e.sites].sort((a, b) => Number(a.typeOnly) - Number(b.typeOnly)) }))
    .sort((a, b) => compare(a.from, b.from) || compare(a.to, b.to));
}

/** Every strongly connected component of the folder graph with more than one folder (Tarjan's algorithm). */
export function folderCycles(graph: ImportGraph): FolderCycle[] {
  const edges = folderEdges(graph);
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  // Recursion depth is bounded by the number of folders, a few dozen.
  const connect = (folder: string): void => {
    index.set(folder, index.size);
    low.set(folder, index.get(folder)!);
    stack.push(folder);
    onStack.add(folder);
    for (const to of next.get(folder) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(folder, Math.min(low.get(folder)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(folder, Math.min(low.get(folder)!, index.get(to)!));
      }
    }
    if (low.get(folder) !== index.get(folder)) return;
    const component: string[] = [];
    for (let member = stack.pop()!; ; member = stack.pop()!) {
      onStack.delete(member);
      component.push(member);
      if (member === folder) break;
    }
    components.push(component);
  };
  for (const folder of [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort(compare)) if (!index.has(folder)) connect(folder);
  return components
    .filter((c) => c.length > 1)
    .map((c) => {
      const members = new Set(c);
      return { folders: [...c].sort(compare), edges: edges.filter((e) => members.has(e.from) && members.has(e.to)) };
    })
    .sort((a, b) => compare(a.folders[0]!, b.folders[0]!));
}

/** One import for a message: `file:line imports 'specifier'`, marked when type-only. */
export function describeSite(site: ImportSite): string {
  return `${site.from}:${site.line} imports '${site.specifier}'${site.typeOnly ? ' (type-only)' : ''}`;
}

/** Start offsets of the specifiers that are erased from the emitted JavaScript. */
function typeOnlySpecifiers(source: ts.SourceFile): Set<number> {
  const found = new Set<number>();
  const mark = (specifier: ts.Node | undefined): void => {
    if (specifier !== undefined && ts.isStringLiteralLike(specifier)) found.add(specifier.getStart(source));
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      // `import {} from` and `import 'x'` keep their side effects; only a clause whose every binding is a type goes.
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (typeOnly) mark(node.moduleSpecifier);
    } else if (ts.isExportDeclaration(node)) {
      const clause = node.exportClause;
      if (node.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly)))
        mark(node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && node.isTypeOnly && ts.isExternalModuleReference(node.moduleReference)) {
      mark(node.moduleReference.expression);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      mark(node.argument.literal);
    } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) {
      // `declare module 'x' { ... }` augments types; it loads nothing.
      mark(node.name);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Resolves a specifier the way `moduleResolution: node16` does for our sources; bare names are packages. */
function resolve(from: string, specifier: string, known: ReadonlySet<string>): ImportTarget {
  if (specifier.startsWith('node:') || BUILTINS.has(specifier)) return { kind: 'builtin', name: specifier.replace(/^node:/, '') };
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
    const parts = specifier.split('/');
    return { kind: 'package', name: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]! };
  }
  const base = path.posix.normalize(path.posix.join(folderOf(from), specifier));
  const extension = path.posix.extname(base);
  const compiledFrom = SOURCE_EXTENSIONS[extension];
  const candidates = [...(compiledFrom === undefined ? [] : [base.slice(0, -extension.length) + compiledFrom]), base, `${base}.ts`, `${base}/index.ts`];
  const file = candidates.find((c) => known.has(c));
  return file === undefined ? { kind: 'unresolved', path: base } : { kind: 'file', path: file };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
