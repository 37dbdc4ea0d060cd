/** Partition specs and sort orders in the spec's JSON shape. */

/** One partition field: a transform of a source column. */
export interface PartitionField {
  'source-id': number;
  'field-id': number;
  name: string;
  /** identity, bucket[N], truncate[W], year, month, day, hour, void */
  transform: string;
}

/** A partition spec. */
export interface PartitionSpec {
  'spec-id': number;
  fields: PartitionField[];
}

/** Partition field ids start here (spec: "partition field IDs start at 1000"). */
export const PARTITION_DATA_ID_START = 1000;

/** The unpartitioned spec with id 0. */
export const UNPARTITIONED_SPEC: PartitionSpec = Object.freeze({ 'spec-id': 0, fields: [] }) as PartitionSpec;

/** A sort field. */
export interface SortField {
  transform: string;
  'source-id': number;
  direction: 'asc' | 'desc';
  'null-order': 'nulls-first' | 'nulls-last';
}

/** A sort order; order id 0 is reserved for "unsorted". */
export interface SortOrder {
  'order-id': number;
  fields: SortField[];
}

/** The unsorted order. */
export const UNSORTED_ORDER: SortOrder = Object.freeze({ 'order-id': 0, fields: [] }) as SortOrder;
