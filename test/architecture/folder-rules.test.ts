/**
 * The layering rules of ARCHITECTURE.md, checked on the import graph of every `.ts` file under shared/, functions/,
 * orchestrators/, cli/ and bench/ (test/ imports everything by design):
 *
 *   1. shared/iceberg/spec/ imports nothing outside itself (no file, package or built-in) but shared/errors.ts.
 *   2. Storage SDKs (@azure/storage-*, @azure/identity, ...) are imported, even for types, only under shared/iceberg/io/.
 *   3. shared/ never imports functions/, orchestrators/ or cli/, nor @azure/functions or durable-functions.
 *   4. Orchestrators are pure: no value import of a built-in or an I/O package, and no clock, randomness, environment,
 *      timer, process or dynamic import in their code (they are replayed from history).
 *   5. No cycles between folders (a folder is a file's own directory), type-only imports included.
 *   6. functions/ never imports cli/ (cli/ hosts the triggers, not the reverse).
 *   7. Product code (shared/, functions/, orchestrators/, cli/) imports only product code: never bench/ or test/.
 *
 * Each rule is run both ways: on small in-memory trees that break it, where it must report exactly the offending
 * imports (so it cannot pass vacuously), and on the code base, where it must report nothing.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ImportGraph, buildImportGraph, folderEdges } from './import-graph';
import {
  SCANNED_ROOTS,
  functionsImportNoCli,
  noFolderCycles,
  orchestratorsArePure,
  productImportsOnlyProduct,
  sharedImportsNoLayerAbove,
  specImportsOnlyItself,
  storageSdksOnlyInIo,
} from './rules';

const ROOT = path.resolve(__dirname, '../..');

let real: ImportGraph | undefined;
/** The code base's graph, built once for every rule. */
function codeBase(): ImportGraph {
  if (real !== undefined) return real;
  const files = new Map<string, string>();
  for (const top of SCANNED_ROOTS) {
    for (const file of readdirSync(path.join(ROOT, top), { recursive: true, encoding: 'utf8' })) {
      if (file.endsWith('.ts') && !file.endsWith('.d.ts'))
        files.set(path.posix.join(top, file.split(path.sep).join('/')), readFileSync(path.join(ROOT, top, file), 'utf8'));
    }
  }
  real = buildImportGraph(files);
  return real;
}

describe('the code base graph', () => {
  it('holds the whole tree and the edges known to exist, so no rule can pass on an empty graph', () => {
    const graph = codeBase();
    expect(graph.files.length).toBeGreaterThan(200);
    expect(graph.files).toEqual(
      expect.arrayContaining([
        'orchestrators/migrate-database.ts',
        'orchestrators/migrate-table.ts',
        'orchestrators/names.ts',
        'orchestrators/retry-policy.ts',
        'shared/errors.ts',
        'functions/index.ts',
        'cli/main.ts',
      ]),
    );
    const edges = graph.imports.map(
      (s) =>
        `${s.from} -> ${s.target.kind === 'file' ? s.target.path : `${s.target.kind}:${s.target.kind === 'unresolved' ? s.target.path : s.target.name}`}${s.typeOnly ? ' (type)' : ''}`,
    );
    expect(edges).toEqual(
      expect.arrayContaining([
        'orchestrators/migrate-table.ts -> shared/postgres/partition-ranges.ts',
        'orchestrators/migrate-database.ts -> shared/migrate/contracts.ts (type)',
        'orchestrators/migrate-table.ts -> package:durable-functions',
        'shared/iceberg/io/azure-clients.ts -> package:@azure/storage-blob',
        'shared/iceberg/io/azure-file-io.ts -> package:@azure/storage-blob (type)',
        'shared/iceberg/spec/transforms.ts -> shared/errors.ts',
        'cli/support/local-run.ts -> functions/index.ts',
      ]),
    );
    expect(graph.imports.some((s) => s.target.kind === 'builtin')).toBe(true);
    expect(folderEdges(graph).map((e) => `${e.from} -> ${e.to}`)).toEqual(
      expect.arrayContaining(['orchestrators -> shared/migrate', 'functions/activities -> shared/migrate', 'cli/support -> functions']),
    );
  });
});

describe('rule 1: shared/iceberg/spec/ imports nothing outside itself but shared/errors.ts', () => {
  it('reports every import out of spec/', () => {
    const graph = buildImportGraph({
      'shared/iceberg/spec/a.ts': [
        "import { b } from './b';",
        "import { ValidationError } from '../../errors';",
        "import { FileIO } from '../io/file-io';",
        "import type { Catalog } from '../catalog/catalog';",
        "import { createHash } from 'node:crypto';",
        "import { parse } from 'some-package';",
      ].join('\n'),
      'shared/iceberg/spec/b.ts': "import { a } from './a';",
      'shared/iceberg/spec/deep/c.ts': "import { a } from '../a';",
      'shared/errors.ts': '',
      'shared/iceberg/io/file-io.ts': "import { a } from '../spec/a';\nimport { BlobClient } from '@azure/storage-blob';",
      'shared/iceberg/catalog/catalog.ts': '',
    });
    const rule = 'shared/iceberg/spec/ imports nothing outside itself but shared/errors.ts';
    expect(specImportsOnlyItself(graph)).toEqual([
      `shared/iceberg/spec/a.ts:3 imports '../io/file-io': ${rule}`,
      `shared/iceberg/spec/a.ts:4 imports '../catalog/catalog' (type-only): ${rule}`,
      `shared/iceberg/spec/a.ts:5 imports 'node:crypto': ${rule}`,
      `shared/iceberg/spec/a.ts:6 imports 'some-package': ${rule}`,
    ]);
  });

  it('holds on the code base', () => {
    expect(specImportsOnlyItself(codeBase())).toEqual([]);
  });
});

describe('rule 2: storage SDKs are imported only under shared/iceberg/io/', () => {
  it('reports a storage SDK imported anywhere else, even for types', () => {
    const graph = buildImportGraph({
      'shared/iceberg/io/azure-file-io.ts':
        "import { BlobServiceClient } from '@azure/storage-blob';\nimport { DefaultAzureCredential } from '@azure/identity';",
      'shared/config/settings.ts': "import type { DataLakeServiceClient } from '@azure/storage-file-datalake';",
      'cli/main.ts': "import { DefaultAzureCredential } from '@azure/identity';\nimport { app } from '@azure/functions';",
      'bench/run.ts': "import { QueueClient } from '@azure/storage-queue/client';",
    });
    const rule = 'storage SDKs are imported only under shared/iceberg/io/';
    expect(storageSdksOnlyInIo(graph)).toEqual([
      `bench/run.ts:1 imports '@azure/storage-queue/client': ${rule}`,
      `cli/main.ts:1 imports '@azure/identity': ${rule}`,
      `shared/config/settings.ts:1 imports '@azure/storage-file-datalake' (type-only): ${rule}`,
    ]);
  });

  it('holds on the code base', () => {
    expect(storageSdksOnlyInIo(codeBase())).toEqual([]);
  });
});

describe('rule 3: shared/ never imports functions/, orchestrators/, cli/ or the Functions runtime', () => {
  it('reports every import of a layer above or of the runtime, even for types', () => {
    const graph = buildImportGraph({
      'shared/migrate/plan.ts': [
        "import { ValidationError } from '../errors';",
        "import { start } from '../../functions/http/start';",
        "import { Activities } from '../../orchestrators/names';",
        "import type { Args } from '../../cli/args';",
        "import type { OrchestrationContext } from 'durable-functions';",
        "import { app } from '@azure/functions';",
      ].join('\n'),
      'shared/errors.ts': '',
      'functions/http/start.ts': "import { plan } from '../../shared/migrate/plan';\nimport { app } from '@azure/functions';",
      'orchestrators/names.ts': "import * as df from 'durable-functions';",
      'cli/args.ts': '',
    });
    const rule = 'shared/ never imports functions/, orchestrators/, cli/, @azure/functions or durable-functions';
    expect(sharedImportsNoLayerAbove(graph)).toEqual([
      `shared/migrate/plan.ts:2 imports '../../functions/http/start': ${rule}`,
      `shared/migrate/plan.ts:3 imports '../../orchestrators/names': ${rule}`,
      `shared/migrate/plan.ts:4 imports '../../cli/args' (type-only): ${rule}`,
      `shared/migrate/plan.ts:5 imports 'durable-functions' (type-only): ${rule}`,
      `shared/migrate/plan.ts:6 imports '@azure/functions': ${rule}`,
    ]);
  });

  it('holds on the code base', () => {
    expect(sharedImportsNoLayerAbove(codeBase())).toEqual([]);
  });
});

describe('rule 4: orchestrators are pure', () => {
  const rule = 'orchestrators are pure: no clock, randomness, environment, timers or I/O';

  it('reports each forbidden construct, and not the same words in comments, strings or types', () => {
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
      "export { Pool } from 'pg';",
    ];
    const pure = [
      '// Date.now() and Math.random() are not allowed here; use context.df.currentUtcDateTime.',
      "const note = 'new Date( process.env Math.random';",
      "import type { Client } from 'pg';",
      'const when = context.df.currentUtcDateTime;',
      'const shape = { process: 1, setTimeout: 2 };',
      'type T = { crypto: string };',
      "import * as df from 'durable-functions';",
      "import { ValidationError } from '../shared/errors';",
      "type Fs = typeof import('node:fs');",
    ];
    const graph = buildImportGraph({
      'orchestrators/impure.ts': impure.join('\n'),
      'orchestrators/pure.ts': pure.join('\n'),
      'shared/errors.ts': '',
      'shared/io.ts': "import { readFile } from 'node:fs/promises';",
    });
    const found = orchestratorsArePure(graph);
    // Line 4 is both a `require` global and an import of fs; line 9 reads `process` and `process.env`; line 14 is a
    // dynamic import and an import of node:fs.
    expect(found.map((p) => Number(/^orchestrators\/impure\.ts:(\d+) /.exec(p)?.[1]))).toEqual([1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 9, 10, 11, 12, 13, 14, 14, 15]);
    expect(found).toEqual(
      expect.arrayContaining([
        `orchestrators/impure.ts:1 imports 'node:fs/promises': ${rule}`,
        `orchestrators/impure.ts:5 uses Date.now: ${rule}`,
        `orchestrators/impure.ts:14 uses dynamic import(): ${rule}`,
      ]),
    );
  });

  it('holds on the code base', () => {
    const graph = codeBase();
    expect(graph.files.filter((f) => f.startsWith('orchestrators/')).length).toBeGreaterThanOrEqual(4);
    expect(orchestratorsArePure(graph)).toEqual([]);
  });
});

describe('rule 5: no cycles between folders', () => {
  it('reports every cycle with one import per edge, type-only edges marked', () => {
    const graph = buildImportGraph({
      'a/one.ts': "import { other } from './other';\nimport { two } from '../b/two';",
      'a/other.ts': '',
      'b/two.ts': "import type { Three } from '../c/three';\nexport type { Four } from '../c/three';",
      'c/three.ts': "import { one } from '../a/one';\nexport * from '../a/other';",
      'd/four.ts': "import { one } from '../a/one';",
      'e/y.ts': "import { x } from './sub/x';",
      'e/sub/x.ts': "import type { Y } from '../y';",
    });
    const rule = 'no cycles between folders';
    expect(noFolderCycles(graph)).toEqual([
      `folder cycle a ↔ b ↔ c: a → b: a/one.ts:2 imports '../b/two'; b → c: b/two.ts:1 imports '../c/three' (type-only) (1 of 2 imports, all type-only); c → a: c/three.ts:1 imports '../a/one' (1 of 2 imports): ${rule}`,
      `folder cycle e ↔ e/sub: e → e/sub: e/y.ts:1 imports './sub/x'; e/sub → e: e/sub/x.ts:1 imports '../y' (type-only): ${rule}`,
    ]);
  });

  it('holds on the code base', () => {
    expect(noFolderCycles(codeBase())).toEqual([]);
  });
});

describe('rule 6: functions/ never imports cli/', () => {
  it('reports a trigger importing the command line', () => {
    const graph = buildImportGraph({
      'functions/http/start.ts': "import { runMigration } from '../../cli/run-migration';\nimport { plan } from '../../shared/plan';",
      'cli/run-migration.ts': "import '../functions/index';",
      'functions/index.ts': '',
      'shared/plan.ts': '',
    });
    expect(functionsImportNoCli(graph)).toEqual([`functions/http/start.ts:1 imports '../../cli/run-migration': functions/ never imports cli/`]);
  });

  it('holds on the code base', () => {
    expect(functionsImportNoCli(codeBase())).toEqual([]);
  });
});

describe('rule 7: product code imports only product code', () => {
  it('reports product imports of bench/, test/ or files that are not there; bench/ may import test support', () => {
    const graph = buildImportGraph({
      'shared/x.ts': "import { y } from '../bench/lib/y';\nimport { z } from './z.js';",
      'shared/z.ts': '',
      'cli/serve.ts': "import type { Pg } from '../test/integration/support/postgres';",
      'bench/lib/y.ts': "import { start } from '../../test/integration/support/postgres';\nimport { x } from '../../shared/x';",
    });
    const rule = 'product code imports only product code (not bench/ or test/)';
    expect(productImportsOnlyProduct(graph)).toEqual([
      `cli/serve.ts:1 imports '../test/integration/support/postgres' (type-only): ${rule}`,
      `shared/x.ts:1 imports '../bench/lib/y': ${rule}`,
    ]);
  });

  it('holds on the code base', () => {
    expect(productImportsOnlyProduct(codeBase())).toEqual([]);
  });
});
