/** The catalog contract for the Hadoop catalog on Azure storage (Azurite, started here), at abfss:// locations. */
import { afterAll, beforeAll } from 'vitest';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { AzureFileIO } from '../../shared/iceberg/io/azure-file-io';
import { RESERVED_NAMES_CHECK, describeCatalogContract } from '../iceberg/catalog/catalog-contract';
import { type AzuriteInstance, startAzurite } from './support/azurite';

let azurite: AzuriteInstance;
let warehouses = 0;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

describeCatalogContract(
  'HadoopCatalog over AzureFileIO (Azurite)',
  () => {
    const warehouse = `abfss://catalog@${azurite.accountName}.dfs.core.windows.net/w${++warehouses}`;
    const io = (): AzureFileIO => new AzureFileIO({ accounts: [{ connectionString: azurite.connectionString }] });
    return { catalog: new HadoopCatalog(io(), warehouse), reopen: () => new HadoopCatalog(io(), warehouse) };
  },
  // Refused with a ValidationError, not mangled: an Azure location may not carry a query string or fragment.
  { knownGaps: { [RESERVED_NAMES_CHECK]: { reason: "Azure locations refuse '#' and '?'", error: /query strings and fragments are not allowed/ } } },
);
