/**
 * The benchmark's data set: a deterministic `orders` table shaped like a migrated PostgreSQL table, held in
 * columns so every writer can be fed its natural input without the generator being part of the timing.
 */
import { createSchema, findFieldByName, type Schema } from '../../shared/iceberg/spec/schema';
import type { Row } from '../../shared/iceberg/spec/values';

/** The Iceberg schema every candidate writes; field ids are what readers resolve columns by. */
export const ORDERS_SCHEMA: Schema = createSchema(
  [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'order_uuid', required: true, type: 'uuid' },
    { id: 3, name: 'customer_id', required: true, type: 'int' },
    { id: 4, name: 'amount', required: true, type: 'decimal(12, 2)' },
    { id: 5, name: 'status', required: true, type: 'string' },
    { id: 6, name: 'created_at', required: true, type: 'timestamptz' },
    { id: 7, name: 'shipped_on', required: false, type: 'date' },
    { id: 8, name: 'is_gift', required: true, type: 'boolean' },
    { id: 9, name: 'note', required: false, type: 'string' },
    { id: 10, name: 'tags', required: false, type: { type: 'list', 'element-id': 12, element: 'string', 'element-required': false } },
    { id: 11, name: 'attrs', required: false, type: 'string' },
  ],
  0,
  [1],
);

/** Precision and scale of `amount`, repeated here because writers need them as numbers. */
export const AMOUNT_PRECISION = 12;
/** Scale of `amount`. */
export const AMOUNT_SCALE = 2;

/** Field id of a top-level column or of a nested path such as "tags.element"; throws for an unknown name. */
export function fieldIdOf(path: string): number {
  const field = findFieldByName(ORDERS_SCHEMA, path);
  if (!field) throw new Error(`orders schema has no field ${path}`);
  return field.id;
}

/** The generated table, column by column. */
export interface OrdersData {
  rows: number;
  id: BigInt64Array;
  /** 16 bytes per row, big-endian as the UUID text reads. */
  orderUuid: Uint8Array;
  orderUuidText: string[];
  customerId: Int32Array;
  /** Unscaled decimal(12,2) values. */
  amountUnscaled: BigInt64Array;
  status: string[];
  /** Microseconds since the epoch, UTC. */
  createdAtMicros: BigInt64Array;
  /** Days since 1970-01-01, or null (about 30%). */
  shippedOn: (number | null)[];
  isGift: boolean[];
  /** Null for about 90% of rows. */
  note: (string | null)[];
  tags: string[][];
  attrs: string[];
}

const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'];
const TAGS = ['priority', 'fragile', 'gift-wrap', 'bulk', 'promo', 'return', 'express', 'eco'];
const NOTES = ['Leave at the door', 'Call before delivery', 'Back entrance, ring twice', 'Deliver after 6pm'];
const CHANNELS = ['web', 'ios', 'android', 'store', 'phone'];
const START_MICROS = 1_672_531_200_000_000; // 2023-01-01T00:00:00Z, well inside Number's exact range
const DAY_MICROS = 86_400_000_000;

/** mulberry32: small, fast and identical on every machine, so every candidate sees the same bytes. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Generates `rows` orders from `seed`; the same arguments always give the same data. */
export function generateOrders(rows: number, seed = 20240601): OrdersData {
  const random = prng(seed);
  const int = (below: number): number => Math.floor(random() * below);
  const data: OrdersData = {
    rows,
    id: new BigInt64Array(rows),
    orderUuid: new Uint8Array(rows * 16),
    orderUuidText: new Array<string>(rows),
    customerId: new Int32Array(rows),
    amountUnscaled: new BigInt64Array(rows),
    status: new Array<string>(rows),
    createdAtMicros: new BigInt64Array(rows),
    shippedOn: new Array<number | null>(rows),
    isGift: new Array<boolean>(rows),
    note: new Array<string | null>(rows),
    tags: new Array<string[]>(rows),
    attrs: new Array<string>(rows),
  };
  let created = START_MICROS;
  for (let i = 0; i < rows; i++) {
    data.id[i] = BigInt(i + 1);
    const uuid = data.orderUuid.subarray(i * 16, i * 16 + 16);
    for (let b = 0; b < 16; b++) uuid[b] = int(256);
    uuid[6] = (uuid[6]! & 0x0f) | 0x40; // version 4
    uuid[8] = (uuid[8]! & 0x3f) | 0x80; // RFC 4122 variant
    const hex = Buffer.from(uuid).toString('hex');
    data.orderUuidText[i] = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    data.customerId[i] = 1 + int(100_000);
    data.amountUnscaled[i] = BigInt(100 + int(999_900));
    data.status[i] = STATUSES[int(STATUSES.length)]!;
    created += int(120_000_000); // orders arrive up to two minutes apart, so the column is sorted like a real one
    data.createdAtMicros[i] = BigInt(created);
    data.shippedOn[i] = random() < 0.3 ? null : Math.floor(created / DAY_MICROS) + int(10);
    data.isGift[i] = random() < 0.1;
    data.note[i] = random() < 0.9 ? null : `${NOTES[int(NOTES.length)]!} #${int(10_000)}`;
    const tagCount = int(4);
    const tags: string[] = [];
    for (let t = 0; t < tagCount; t++) tags.push(TAGS[int(TAGS.length)]!);
    data.tags[i] = tags;
    data.attrs[i] = JSON.stringify({
      channel: CHANNELS[int(CHANNELS.length)],
      items: 1 + int(9),
      coupon: random() < 0.2 ? `SAVE${5 * (1 + int(4))}` : null,
    });
  }
  return data;
}

/** The rows in the shared value representation (shared/iceberg/spec/values.ts), in schema field order. */
export function ordersAsRows(data: OrdersData): Row[] {
  const rows = new Array<Row>(data.rows);
  for (let i = 0; i < data.rows; i++) {
    rows[i] = [
      data.id[i]!,
      data.orderUuidText[i]!,
      data.customerId[i]!,
      data.amountUnscaled[i]!,
      data.status[i]!,
      data.createdAtMicros[i]!,
      data.shippedOn[i]!,
      data.isGift[i]!,
      data.note[i]!,
      data.tags[i]!,
      data.attrs[i]!,
    ];
  }
  return rows;
}

/**
 * Aggregates a reader must reproduce from a written file; all rendered as decimal text so they compare exactly
 * whatever numeric type a reader returns.
 */
export type OrdersDigest = Record<string, string>;

/** The digest of the generated data, to compare with what a reader computes from each file. */
export function digestOrders(data: OrdersData): OrdersDigest {
  let idSum = 0n;
  let amountSum = 0n;
  let createdSum = 0n;
  let customerSum = 0;
  let shipped = 0;
  let shippedDays = 0;
  let gifts = 0;
  let notes = 0;
  let noteChars = 0;
  let tagElements = 0;
  let tagChars = 0;
  let attrsChars = 0;
  for (let i = 0; i < data.rows; i++) {
    idSum += data.id[i]!;
    amountSum += data.amountUnscaled[i]!;
    createdSum += data.createdAtMicros[i]!;
    customerSum += data.customerId[i]!;
    const day = data.shippedOn[i];
    if (day !== null && day !== undefined) {
      shipped++;
      shippedDays += day;
    }
    if (data.isGift[i]) gifts++;
    const note = data.note[i];
    if (note !== null && note !== undefined) {
      notes++;
      noteChars += note.length;
    }
    for (const tag of data.tags[i]!) {
      tagElements++;
      tagChars += tag.length;
    }
    attrsChars += data.attrs[i]!.length;
  }
  return {
    rows: String(data.rows),
    id_sum: String(idSum),
    customer_sum: String(customerSum),
    amount_unscaled_sum: String(amountSum),
    created_us_sum: String(createdSum),
    shipped_count: String(shipped),
    shipped_day_sum: String(shippedDays),
    gifts: String(gifts),
    notes: String(notes),
    note_chars: String(noteChars),
    tag_lists: String(data.rows),
    tag_elements: String(tagElements),
    tag_chars: String(tagChars),
    attrs_chars: String(attrsChars),
    statuses: String(new Set(data.status).size),
    first_uuid: data.rows > 0 ? data.orderUuidText[0]!.replace(/-/g, '') : '',
  };
}
