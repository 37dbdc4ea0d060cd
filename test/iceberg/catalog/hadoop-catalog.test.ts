import { pathToFileURL } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../../shared/iceberg/io/local-file-io';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { describeCatalogContract } from './catalog-contract';

let root: string;
let warehouses = 0;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'hadoop-catalog-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describeCatalogContract('HadoopCatalog over MemoryFileIO', () => {
  const io = new MemoryFileIO();
  return { catalog: new HadoopCatalog(io, 'memory://warehouse'), reopen: () => new HadoopCatalog(io, 'memory://warehouse') };
});

describeCatalogContract('HadoopCatalog over LocalFileIO, a directory path', () => {
  const warehouse = path.join(root, `w${++warehouses}`);
  return { catalog: new HadoopCatalog(new LocalFileIO(), warehouse), reopen: () => new HadoopCatalog(new LocalFileIO(), warehouse) };
});

describeCatalogContract('HadoopCatalog over LocalFileIO, a file:// warehouse', () => {
  const warehouse = pathToFileURL(path.join(root, `w${++warehouses}`)).href;
  return { catalog: new HadoopCatalog(new LocalFileIO(), warehouse), reopen: () => new HadoopCatalog(new LocalFileIO(), warehouse) };
});
