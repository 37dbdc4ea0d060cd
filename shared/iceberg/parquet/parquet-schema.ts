/**
 * Iceberg schema -> Parquet schema (Iceberg spec Appendix A "Parquet"): exact physical types, logical types plus
 * the matching converted types for older readers, standard 3-level lists and maps, and the Iceberg field id on
 * every element that has one. The repeated middle groups (`list`, `key_value`) have no Iceberg field and carry no
 * id, as in the Java implementation.
 */
import { decimalRequiredBytes } from '../spec/conversions';
import type { Schema } from '../spec/schema';
import { type IcebergType, type NestedField, type PrimitiveType, decimalParams, fixedLength, primitiveKind } from '../spec/types';
import { ConvertedType, type LogicalType, ParquetType, Repetition, type SchemaElement } from './parquet-thrift';

/** Name of the root element, as Java writes it. */
export const ROOT_NAME = 'table';

/** A primitive column of the Parquet file and where it sits in the Iceberg schema. */
export interface LeafColumn {
  /** Iceberg field id of the leaf. */
  fieldId: number;
  /** Iceberg names leading to the leaf (list elements "element", map parts "key"/"value"); used in messages. */
  icebergPath: string[];
  /** Parquet path_in_schema (includes the `list` / `key_value` groups). */
  parquetPath: string[];
  type: PrimitiveType;
  physicalType: ParquetType;
  /** Byte width of FIXED_LEN_BYTE_ARRAY columns. */
  typeLength?: number;
  maxDefinitionLevel: number;
  maxRepetitionLevel: number;
  /** True when the leaf is inside a list or map; Iceberg keeps no bounds for those. */
  repeated: boolean;
}

/** Physical type (and fixed width) of an Iceberg primitive. */
export function physicalTypeOf(type: PrimitiveType): { physicalType: ParquetType; typeLength?: number } {
  switch (primitiveKind(type)) {
    case 'boolean':
      return { physicalType: ParquetType.BOOLEAN };
    case 'int':
    case 'date':
      return { physicalType: ParquetType.INT32 };
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return { physicalType: ParquetType.INT64 };
    case 'float':
      return { physicalType: ParquetType.FLOAT };
    case 'double':
      return { physicalType: ParquetType.DOUBLE };
    case 'string':
    case 'binary':
      return { physicalType: ParquetType.BYTE_ARRAY };
    case 'uuid':
      return { physicalType: ParquetType.FIXED_LEN_BYTE_ARRAY, typeLength: 16 };
    case 'fixed':
      return { physicalType: ParquetType.FIXED_LEN_BYTE_ARRAY, typeLength: fixedLength(type)! };
    case 'decimal': {
      const { precision } = decimalParams(type)!;
      if (precision <= 9) return { physicalType: ParquetType.INT32 };
      if (precision <= 18) return { physicalType: ParquetType.INT64 };
      return { physicalType: ParquetType.FIXED_LEN_BYTE_ARRAY, typeLength: decimalRequiredBytes(precision) };
    }
  }
}

function annotate(element: SchemaElement, type: PrimitiveType): void {
  const micros = { MICROS: {} };
  let logical: LogicalType | undefined;
  switch (primitiveKind(type)) {
    case 'date':
      logical = { DATE: {} };
      element.converted_type = ConvertedType.DATE;
      break;
    case 'time':
      logical = { TIME: { isAdjustedToUTC: false, unit: micros } };
      // LogicalTypes.md: writers must also annotate local time with the legacy TIME_MICROS.
      element.converted_type = ConvertedType.TIME_MICROS;
      break;
    case 'timestamp':
    case 'timestamptz':
      logical = { TIMESTAMP: { isAdjustedToUTC: type === 'timestamptz', unit: micros } };
      element.converted_type = ConvertedType.TIMESTAMP_MICROS;
      break;
    case 'string':
      logical = { STRING: {} };
      element.converted_type = ConvertedType.UTF8;
      break;
    case 'uuid':
      logical = { UUID: {} };
      break;
    case 'decimal': {
      const { precision, scale } = decimalParams(type)!;
      logical = { DECIMAL: { scale, precision } };
      element.converted_type = ConvertedType.DECIMAL;
      element.scale = scale;
      element.precision = precision;
      break;
    }
    default:
      break;
  }
  if (logical) element.logicalType = logical;
}

/** The flattened Parquet schema (root first, depth first) and the leaf columns in file order. */
export interface ParquetSchema {
  elements: SchemaElement[];
  leaves: LeafColumn[];
}

/** Converts an Iceberg schema into Parquet schema elements and leaf column descriptions. */
export function toParquetSchema(schema: Schema): ParquetSchema {
  const elements: SchemaElement[] = [{ name: ROOT_NAME, num_children: schema.fields.length }];
  const leaves: LeafColumn[] = [];

  interface Context {
    icebergPath: string[];
    parquetPath: string[];
    def: number;
    rep: number;
    repeated: boolean;
  }

  const visit = (name: string, id: number, required: boolean, type: IcebergType, parent: Context, icebergName: string): void => {
    const repetition = required ? Repetition.REQUIRED : Repetition.OPTIONAL;
    const here: Context = {
      icebergPath: [...parent.icebergPath, icebergName],
      parquetPath: [...parent.parquetPath, name],
      def: parent.def + (required ? 0 : 1),
      rep: parent.rep,
      repeated: parent.repeated,
    };
    if (typeof type === 'string') {
      const { physicalType, typeLength } = physicalTypeOf(type);
      const element: SchemaElement = { type: physicalType, repetition_type: repetition, name, field_id: id };
      if (typeLength !== undefined) element.type_length = typeLength;
      annotate(element, type);
      elements.push(element);
      const leaf: LeafColumn = {
        fieldId: id,
        icebergPath: here.icebergPath,
        parquetPath: here.parquetPath,
        type,
        physicalType,
        maxDefinitionLevel: here.def,
        maxRepetitionLevel: here.rep,
        repeated: here.repeated,
      };
      if (typeLength !== undefined) leaf.typeLength = typeLength;
      leaves.push(leaf);
      return;
    }
    if (type.type === 'struct') {
      elements.push({ repetition_type: repetition, name, num_children: type.fields.length, field_id: id });
      for (const field of type.fields) visitField(field, here);
      return;
    }
    // Lists and maps: the repeated middle group adds one definition and one repetition level.
    const inner: Context = { ...here, def: here.def + 1, rep: here.rep + 1, repeated: true };
    if (type.type === 'list') {
      elements.push({
        repetition_type: repetition,
        name,
        num_children: 1,
        field_id: id,
        converted_type: ConvertedType.LIST,
        logicalType: { LIST: {} },
      });
      elements.push({ repetition_type: Repetition.REPEATED, name: 'list', num_children: 1 });
      const listContext = { ...inner, parquetPath: [...inner.parquetPath, 'list'] };
      visit('element', type['element-id'], type['element-required'], type.element, listContext, 'element');
      return;
    }
    elements.push({
      repetition_type: repetition,
      name,
      num_children: 1,
      field_id: id,
      converted_type: ConvertedType.MAP,
      logicalType: { MAP: {} },
    });
    elements.push({ repetition_type: Repetition.REPEATED, name: 'key_value', num_children: 2 });
    const mapContext = { ...inner, parquetPath: [...inner.parquetPath, 'key_value'] };
    visit('key', type['key-id'], true, type.key, mapContext, 'key');
    visit('value', type['value-id'], type['value-required'], type.value, mapContext, 'value');
  };

  const visitField = (field: NestedField, parent: Context): void => visit(field.name, field.id, field.required, field.type, parent, field.name);

  const root: Context = { icebergPath: [], parquetPath: [], def: 0, rep: 0, repeated: false };
  for (const field of schema.fields) visitField(field, root);
  return { elements, leaves };
}
