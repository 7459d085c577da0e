-- Every kind of object pg_dump --schema-only saves, for the schema
-- archive tests (archive_test.go, cmd/strata cli_pgschema_test.go).
-- The role strata_test_reader must exist (the tests create it).
CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'the shop';
CREATE COLLATION shop.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TYPE shop.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN shop.year AS integer CONSTRAINT year_check CHECK (VALUE > 1900);
CREATE TYPE shop.pair AS (a integer, b text);
CREATE TYPE shop.floatrange AS RANGE (subtype = float8);
CREATE FUNCTION shop.add_one(i integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT i + 1 $$;
-- A body that looks like the header of an archive entry to a reader of
-- pg_restore's output that splits at headers.
CREATE FUNCTION shop.tricky() RETURNS text LANGUAGE sql AS $$ SELECT '
--
-- TOC entry 1 (class 0 OID 0)
-- Name: x; Type: TABLE; Schema: shop; Owner: postgres
--

DROP TABLE shop.counter;
'::text $$;
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated := now(); RETURN NEW; END $$;
CREATE FUNCTION shop.sum_sq_step(s bigint, v integer) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT s + v * v $$;
CREATE AGGREGATE shop.sum_sq(integer) (sfunc = shop.sum_sq_step, stype = bigint, initcond = '0');
CREATE FUNCTION shop.pair_eq(shop.pair, shop.pair) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT $1.a = $2.a $$;
CREATE OPERATOR shop.=== (leftarg = shop.pair, rightarg = shop.pair, function = shop.pair_eq);
CREATE TABLE shop.counter (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0);
CREATE PROCEDURE shop.reset_counts() LANGUAGE plpgsql AS $$ BEGIN UPDATE shop.counter SET n = 0; END $$;
CREATE TABLE shop.customer (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email public.citext NOT NULL UNIQUE,
    name text COLLATE shop.ci,
    born shop.year,
    mood shop.mood DEFAULT 'ok',
    secret bytea DEFAULT public.gen_random_bytes(4),
    name_len integer GENERATED ALWAYS AS (length(name)) STORED,
    updated timestamptz
);
ALTER TABLE shop.customer ALTER COLUMN name SET STATISTICS 500;
ALTER TABLE shop.customer REPLICA IDENTITY FULL;
COMMENT ON TABLE shop.customer IS 'who buys';
COMMENT ON COLUMN shop.customer.email IS 'unique, case-insensitive';
CREATE TRIGGER customer_touch BEFORE UPDATE ON shop.customer FOR EACH ROW EXECUTE FUNCTION shop.touch();
ALTER TABLE shop.customer ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.customer FORCE ROW LEVEL SECURITY;
CREATE POLICY customer_own ON shop.customer USING (name = current_user);
CREATE TABLE shop.orders (
    id serial PRIMARY KEY,
    customer_id bigint REFERENCES shop.customer DEFERRABLE INITIALLY DEFERRED,
    during tstzrange,
    total numeric(12,2) CHECK (total >= 0) ,
    pair shop.pair,
    note text,
    EXCLUDE USING gist (customer_id WITH =, during WITH &&)
);
ALTER TABLE shop.orders ADD CONSTRAINT orders_note_check CHECK (note <> '') NOT VALID;
CREATE INDEX orders_big ON shop.orders (total) INCLUDE (note) WHERE total > 100;
CREATE INDEX orders_lower_note ON shop.orders (lower(note));
CREATE UNIQUE INDEX orders_pair_a ON shop.orders (((pair).a)) NULLS NOT DISTINCT;
CREATE RULE orders_no_delete AS ON DELETE TO shop.orders WHERE old.total > 1000 DO INSTEAD NOTHING;
CREATE SEQUENCE shop.ticket START 100 INCREMENT 5;
CREATE TABLE shop.ticket_use (t integer DEFAULT nextval('shop.ticket'));
ALTER SEQUENCE shop.ticket OWNED BY shop.ticket_use.t;
CREATE TABLE shop.measure (id integer NOT NULL, at date NOT NULL, v double precision) PARTITION BY RANGE (at);
CREATE TABLE shop.measure_2024 PARTITION OF shop.measure FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE shop.measure_2025 PARTITION OF shop.measure FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
ALTER TABLE shop.measure ADD PRIMARY KEY (id, at);
CREATE TABLE shop.animal (id integer PRIMARY KEY, name text);
CREATE TABLE shop.dog (bark text) INHERITS (shop.animal);
CREATE VIEW shop.big_orders AS SELECT id, total FROM shop.orders WHERE total > 100;
CREATE MATERIALIZED VIEW shop.order_totals AS SELECT customer_id, sum(total) AS total FROM shop.orders GROUP BY customer_id;
CREATE UNIQUE INDEX order_totals_customer ON shop.order_totals (customer_id);
CREATE MATERIALIZED VIEW shop.top_totals AS SELECT * FROM shop.order_totals WHERE total > 10;
CREATE VIEW shop.top_view AS SELECT * FROM shop.top_totals;
CREATE MATERIALIZED VIEW shop.empty_mv AS SELECT 1 AS one WITH NO DATA;
GRANT USAGE ON SCHEMA shop TO strata_test_reader;
GRANT SELECT ON shop.customer, shop.orders TO strata_test_reader;
GRANT SELECT (id, total) ON shop.big_orders TO strata_test_reader;
GRANT EXECUTE ON FUNCTION shop.add_one(integer) TO strata_test_reader;
INSERT INTO shop.counter VALUES (1, 5), (2, 7);
INSERT INTO shop.customer (email, name, born, mood) VALUES ('A@x.org', 'ann', 1980, 'happy'), ('b@x.org', 'bob', NULL, 'sad');
INSERT INTO shop.orders (customer_id, during, total, pair, note) VALUES
  (1, '[2024-01-01,2024-02-01)', 150.50, '(1,one)', 'first'),
  (1, '[2024-03-01,2024-04-01)', 12.00, '(2,two)', 'second'),
  (2, NULL, 3000.00, NULL, NULL);
INSERT INTO shop.ticket_use DEFAULT VALUES;
INSERT INTO shop.ticket_use DEFAULT VALUES;
INSERT INTO shop.measure VALUES (1, '2024-05-01', 1.5), (2, '2025-06-01', 2.5), (3, '2024-07-01', 'Infinity');
INSERT INTO shop.animal VALUES (1, 'cat');
INSERT INTO shop.dog VALUES (2, 'rex', 'woof');
REFRESH MATERIALIZED VIEW shop.order_totals;
REFRESH MATERIALIZED VIEW shop.top_totals;
