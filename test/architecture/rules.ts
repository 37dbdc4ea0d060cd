/**
 * The layering rules of ARCHITECTURE.md as functions of an import graph. Each returns one message per violation, and
 * each message names the file, the import and the rule, so a red test says what to move without a debugger.
 */
import { type ImportGraph, type ImportSite, describeSite, folderCycles } from './import-graph';
import { findImpureSyntax } from './impure-syntax';

/** The top-level folders of the product: what ships and runs. */
export const PRODUCT_ROOTS: readonly string[] = ['shared', 'functions', 'orchestrators', 'cli'];
/**
 * The folders whose imports are read. `bench/` is not product, but it is code of this repository that imports the
 * product, so its folders take part in the cycle rule and any product import of it is caught; `test/` imports
 * everything by design and is left out.
 */
export const SCANNED_ROOTS: readonly string[] = [...PRODUCT_ROOTS, 'bench'];

/** Storage SDKs, which only `FileIO` implementations may import (pyiceberg's rule). */
const STORAGE_SDK = /^@azure\/(storage-[a-z-]+|identity|data-tables|arm-storage)$/;
/** Packages whose import means I/O: drivers and SDKs (Node built-ins are recognised by the graph). */
const IO_PACKAGES = /^(node:|pg($|-)|@azure\/(?!functions$)|@aws-sdk\/|axios$|undici$|kafkajs$|@clickhouse\/)/;
/** The Functions runtime's packages, which belong to the trigger and orchestration layers only. */
const RUNTIME_PACKAGES = new Set(['@azure/functions', 'durable-functions']);

/** Rule 1: `shared/iceberg/spec/` imports nothing outside itself (files, packages or built-ins) but `shared/errors.ts`. */
export function specImportsOnlyItself(graph: ImportGraph): string[] {
  const rule = 'shared/iceberg/spec/ imports nothing outside itself but shared/errors.ts';
  return graph.imports
    .filter((s) => within(s.from, 'shared/iceberg/spec'))
    .filter((s) => !(within(targetFile(s), 'shared/iceberg/spec') || targetFile(s) === 'shared/errors.ts'))
    .map((s) => violation(s, rule));
}

/** Rule 2: storage SDKs are imported, even for types, only under `shared/iceberg/io/`. */
export function storageSdksOnlyInIo(graph: ImportGraph): string[] {
  const rule = 'storage SDKs are imported only under shared/iceberg/io/';
  return graph.imports
    .filter((s) => s.target.kind === 'package' && STORAGE_SDK.test(s.target.name) && !within(s.from, 'shared/iceberg/io'))
    .map((s) => violation(s, rule));
}

/** Rule 3: `shared/` imports neither the layers above it nor the Functions runtime, even for types. */
export function sharedImportsNoLayerAbove(graph: ImportGraph): string[] {
  const rule = 'shared/ never imports functions/, orchestrators/, cli/, @azure/functions or durable-functions';
  return graph.imports
    .filter((s) => within(s.from, 'shared'))
    .filter(
      (s) =>
        ['functions', 'orchestrators', 'cli'].some((top) => within(targetFile(s), top)) || (s.target.kind === 'package' && RUNTIME_PACKAGES.has(s.target.name)),
    )
    .map((s) => violation(s, rule));
}

/**
 * Rule 4: orchestrators are pure. No value import of a Node built-in or an I/O package (type-only imports are erased,
 * and `durable-functions` and our own modules are allowed), and no clock, randomness, environment, timer, process or
 * dynamic import in their code. The shared/ modules they import are not followed: some use deterministic built-ins
 * (shared/text/bounded-text.ts hashes with node:crypto), which an import rule cannot tell from I/O.
 */
export function orchestratorsArePure(graph: ImportGraph): string[] {
  const rule = 'orchestrators are pure: no clock, randomness, environment, timers or I/O';
  const imports = graph.imports
    .filter((s) => within(s.from, 'orchestrators') && !s.typeOnly && (s.target.kind === 'builtin' || IO_PACKAGES.test(s.specifier)))
    .map((s) => ({ file: s.from, line: s.line, message: violation(s, rule) }));
  const syntax = graph.files
    .filter((file) => within(file, 'orchestrators'))
    .flatMap((file) => findImpureSyntax(graph.sources.get(file)!).map((f) => ({ file, line: f.line, message: `${file}:${f.line} uses ${f.what}: ${rule}` })));
  return [...imports, ...syntax].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line)).map((f) => f.message);
}

/**
 * Rule 5: no cycles between folders. Type-only imports count: a folder cycle ties two folders' designs together
 * (neither can be understood, moved or split without the other) whether or not the compiler erases the edge, so a
 * type-only edge closes a cycle too; the message marks such edges so the cheapest one to cut is plain.
 */
export function noFolderCycles(graph: ImportGraph): string[] {
  return folderCycles(graph).map((cycle) => {
    // Sites come value imports first, so a type-only example means the whole edge is type-only.
    const edges = cycle.edges.map((e) => {
      const more = e.sites.length === 1 ? '' : ` (1 of ${e.sites.length} imports${e.sites[0]!.typeOnly ? ', all type-only' : ''})`;
      return `${e.from} → ${e.to}: ${describeSite(e.sites[0]!)}${more}`;
    });
    return `folder cycle ${cycle.folders.join(' ↔ ')}: ${edges.join('; ')}: no cycles between folders`;
  });
}

/** Rule 6: triggers (`functions/`) never import the command line; `cli/` hosts the triggers, not the reverse. */
export function functionsImportNoCli(graph: ImportGraph): string[] {
  const rule = 'functions/ never imports cli/';
  return graph.imports.filter((s) => within(s.from, 'functions') && within(targetFile(s), 'cli')).map((s) => violation(s, rule));
}

/** Rule 7: product code's relative imports resolve to product files: never to `bench/`, `test/` or a missing file. */
export function productImportsOnlyProduct(graph: ImportGraph): string[] {
  const rule = 'product code imports only product code (not bench/ or test/)';
  return graph.imports
    .filter((s) => PRODUCT_ROOTS.some((top) => within(s.from, top)))
    .filter((s) => s.target.kind === 'unresolved' || (s.target.kind === 'file' && !PRODUCT_ROOTS.some((top) => within(targetFile(s), top))))
    .map((s) => violation(s, rule));
}

/** True when a repository-relative file sits in a folder or below it. */
function within(file: string | undefined, folder: string): boolean {
  return file !== undefined && file.startsWith(`${folder}/`);
}

function targetFile(site: ImportSite): string | undefined {
  return site.target.kind === 'file' ? site.target.path : undefined;
}

function violation(site: ImportSite, rule: string): string {
  return `${describeSite(site)}: ${rule}`;
}
