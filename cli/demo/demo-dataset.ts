/**
 * The demo's source database: a small shop with users, customers, products, orders whose line items are an
 * array of a composite type (a list of structs in Iceberg) and payment transactions, linked by foreign keys.
 * Generated inside PostgreSQL with a fixed seed, so every run produces the same rows.
 */

/** Row counts of the generated tables. */
export const DEMO_SIZES = { users: 12_000, customers: 10_000, products: 2_000, orders: 40_000, transactions: 44_000 } as const;

/** SQL that creates and fills the demo schema `shop` (idempotent: drops it first). */
export function demoDatasetSql(sizes: Record<keyof typeof DEMO_SIZES, number> = DEMO_SIZES): string {
  return `
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
SET search_path = shop;
SELECT setseed(0.4242);

CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled');
CREATE TYPE line_item AS (product_id integer, quantity integer, unit_price numeric(10,2), discount numeric(4,3));

CREATE TABLE users (
  id bigint PRIMARY KEY,
  email text NOT NULL UNIQUE,
  display_name varchar(80),
  created_at timestamptz NOT NULL,
  last_login timestamptz,
  is_active boolean NOT NULL,
  preferences jsonb
);
INSERT INTO users
SELECT g, 'user' || g || '@example.com', initcap(md5(g::text)::varchar(12)) || ' ' || chr(65 + g % 26) || 'ø',
       timestamptz '2019-01-01 00:00:00+00' + (random() * 1500) * interval '1 day' + (g % 1000000) * interval '1 microsecond',
       CASE WHEN g % 7 = 0 THEN NULL ELSE timestamptz '2024-01-01 00:00:00+00' + random() * interval '300 days' END,
       g % 13 <> 0,
       jsonb_build_object('theme', CASE WHEN g % 2 = 0 THEN 'dark' ELSE 'light' END, 'newsletter', g % 3 = 0)
FROM generate_series(1, ${sizes.users}) g;

CREATE TABLE customers (
  id integer PRIMARY KEY,
  user_id bigint REFERENCES users(id),
  name text NOT NULL,
  country char(2) NOT NULL,
  tier smallint NOT NULL,
  credit_limit numeric(12,2),
  tags text[]
);
INSERT INTO customers
SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE g END, 'Customer ' || g || CASE WHEN g % 50 = 0 THEN ' — Ünïcødé' ELSE '' END,
       (ARRAY['DE','FR','US','JP','BR','IN','NG','SE'])[1 + g % 8], (g % 4)::smallint,
       CASE WHEN g % 9 = 0 THEN NULL ELSE round((random() * 50000)::numeric, 2) END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE ARRAY['t' || (g % 3), CASE WHEN g % 4 = 0 THEN NULL ELSE 'vip' END] END
FROM generate_series(1, ${sizes.customers}) g;

CREATE TABLE products (
  id integer PRIMARY KEY,
  sku uuid NOT NULL UNIQUE,
  name text NOT NULL,
  price numeric(10,2) NOT NULL,
  weight_kg real,
  rating double precision,
  image bytea
);
INSERT INTO products
SELECT g, md5('sku' || g)::uuid, 'Product ' || g, round((1 + random() * 999)::numeric, 2),
       CASE WHEN g % 11 = 0 THEN NULL ELSE round((random() * 20)::numeric, 3)::real END,
       CASE WHEN g % 97 = 0 THEN 'NaN'::double precision ELSE random() * 5 END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') || '\\x00ff'::bytea END
FROM generate_series(1, ${sizes.products}) g;

CREATE TABLE orders (
  id bigint PRIMARY KEY,
  order_uuid uuid NOT NULL,
  customer_id integer NOT NULL REFERENCES customers(id),
  status order_status NOT NULL,
  ordered_at timestamptz NOT NULL,
  shipped_on date,
  total numeric(14,2) NOT NULL,
  line_items line_item[] NOT NULL,
  note text
);
INSERT INTO orders
SELECT o.id, md5('order' || o.id)::uuid, 1 + (o.id * 7919) % ${sizes.customers},
       (ARRAY['pending','paid','shipped','delivered','cancelled']::order_status[])[1 + o.id % 5],
       o.at, CASE WHEN o.id % 5 IN (2, 3) THEN (o.at + interval '2 days')::date END,
       (SELECT coalesce(sum((li).quantity * (li).unit_price), 0) FROM unnest(o.items) li),
       o.items, CASE WHEN o.id % 17 = 0 THEN 'gift wrap, "fragile"' END
FROM (
  SELECT g AS id,
         timestamptz '2022-01-01 00:00:00+00' + (random() * 1000) * interval '1 day' AS at,
         ARRAY(SELECT ROW(1 + ((g * 31 + k * 7) % ${sizes.products}), 1 + (g + k) % 4, round((1 + random() * 99)::numeric, 2),
                          CASE WHEN k = 2 THEN NULL ELSE round((random() / 4)::numeric, 3) END)::line_item
               FROM generate_series(1, 1 + g % 3) k) AS items
  FROM generate_series(1, ${sizes.orders}) g
) o;

CREATE TABLE transactions (
  id bigint PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders(id),
  amount numeric(14,2) NOT NULL,
  currency char(3) NOT NULL,
  processed_at timestamp NOT NULL,
  succeeded boolean NOT NULL,
  processor_reference text
);
INSERT INTO transactions
SELECT g, 1 + (g - 1) % ${sizes.orders}, round((random() * 500)::numeric, 2) * CASE WHEN g % 23 = 0 THEN -1 ELSE 1 END,
       (ARRAY['EUR','USD','JPY'])[1 + g % 3],
       timestamp '2022-01-01 00:00:00' + (random() * 1000) * interval '1 day',
       g % 19 <> 0, CASE WHEN g % 19 = 0 THEN NULL ELSE 'ref-' || md5(g::text) END
FROM generate_series(1, ${sizes.transactions}) g;

ANALYZE;
`;
}
