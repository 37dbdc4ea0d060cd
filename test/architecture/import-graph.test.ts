import { describe, expect, it } from 'vitest';
import { buildImportGraph, folderCycles, folderEdges, folderOf } from './import-graph';

describe('import graph', () => {
  it('finds every form of import, resolves it and tells type-only ones apart, but not words in comments or strings', () => {
    const cli = [
      "import { b } from './b.js';",
      "import { c } from './c';",
      "import type { D } from '../shared/d';",
      "import { type E, type F } from './b';",
      "import { type G, h } from './b';",
      "export * from './b';",
      "export type { I } from './b';",
      "import fs = require('node:fs');",
      "const z = import('zlib');",
      "type P = typeof import('@scope/pkg/sub');",
      "const q = require('pg-copy-streams');",
      "// import x from './comment';",
      'const s = "import y from \'./string\'";',
      "import './missing.js';",
      "declare module 'durable-functions' { }",
      "export { type J } from './b';",
      "import {} from '../shared/d.js';",
    ].join('\n');
    const graph = buildImportGraph({ 'cli/a.ts': cli, 'cli/b.ts': '', 'cli/c/index.ts': '', 'shared/d.ts': '' });
    expect(graph.files).toEqual(['cli/a.ts', 'cli/b.ts', 'cli/c/index.ts', 'shared/d.ts']);
    expect(graph.imports.map(({ line, specifier, typeOnly, target }) => ({ line, specifier, typeOnly, target }))).toEqual([
      { line: 1, specifier: './b.js', typeOnly: false, target: { kind: 'file', path: 'cli/b.ts' } },
      { line: 2, specifier: './c', typeOnly: false, target: { kind: 'file', path: 'cli/c/index.ts' } },
      { line: 3, specifier: '../shared/d', typeOnly: true, target: { kind: 'file', path: 'shared/d.ts' } },
      { line: 4, specifier: './b', typeOnly: true, target: { kind: 'file', path: 'cli/b.ts' } },
      { line: 5, specifier: './b', typeOnly: false, target: { kind: 'file', path: 'cli/b.ts' } },
      { line: 6, specifier: './b', typeOnly: false, target: { kind: 'file', path: 'cli/b.ts' } },
      { line: 7, specifier: './b', typeOnly: true, target: { kind: 'file', path: 'cli/b.ts' } },
      { line: 8, specifier: 'node:fs', typeOnly: false, target: { kind: 'builtin', name: 'fs' } },
      { line: 9, specifier: 'zlib', typeOnly: false, target: { kind: 'builtin', name: 'zlib' } },
      { line: 10, specifier: '@scope/pkg/sub', typeOnly: true, target: { kind: 'package', name: '@scope/pkg' } },
      { line: 11, specifier: 'pg-copy-streams', typeOnly: false, target: { kind: 'package', name: 'pg-copy-streams' } },
      { line: 14, specifier: './missing.js', typeOnly: false, target: { kind: 'unresolved', path: 'cli/missing.js' } },
      { line: 15, specifier: 'durable-functions', typeOnly: true, target: { kind: 'package', name: 'durable-functions' } },
      { line: 16, specifier: './b', typeOnly: true, target: { kind: 'file', path: 'cli/b.ts' } },
      { line: 17, specifier: '../shared/d.js', typeOnly: false, target: { kind: 'file', path: 'shared/d.ts' } },
    ]);
  });

  it('builds folder edges from direct folders only, value imports first, and finds every folder cycle', () => {
    const graph = buildImportGraph({
      'a/one.ts': "import type { T } from '../b/two';\nimport { two } from '../b/two';\nimport { other } from './other';",
      'a/other.ts': '',
      'b/two.ts': "import { three } from './deep/three';",
      'b/deep/three.ts': "import { one } from '../../a/one';",
      'c/four.ts': "import { one } from '../a/one';",
    });
    expect(folderOf('b/deep/three.ts')).toBe('b/deep');
    expect(folderEdges(graph).map((e) => [e.from, e.to, e.sites.map((s) => `${s.line}${s.typeOnly ? 't' : ''}`).join(',')])).toEqual([
      ['a', 'b', '2,1t'],
      ['b', 'b/deep', '1'],
      ['b/deep', 'a', '1'],
      ['c', 'a', '1'],
    ]);
    expect(folderCycles(graph).map((c) => [c.folders, c.edges.length])).toEqual([[['a', 'b', 'b/deep'], 3]]);
    expect(folderCycles(buildImportGraph({ 'a/one.ts': "import { two } from '../b/two';", 'b/two.ts': '' }))).toEqual([]);
  });

  it('takes a Map as well as a record', () => {
    const graph = buildImportGraph(
      new Map([
        ['shared/x.ts', "import { y } from './y';"],
        ['shared/y.ts', ''],
      ]),
    );
    expect(graph.imports.map((s) => [s.from, s.target])).toEqual([['shared/x.ts', { kind: 'file', path: 'shared/y.ts' }]]);
  });
});
