package customerdb

import (
	"database/sql"
	"fmt"
)

// The DDL is what Laravel's schema builder emits for SQLite
// (increments() is "integer primary key autoincrement not null",
// timestamps() are nullable datetime columns holding
// 'YYYY-MM-DD HH:MM:SS' text, decimal() is numeric), plus the CHECK
// constraints the application's enums and validation imply.
var createTables = []string{
	`create table "service_categories" (
  "id" integer primary key autoincrement not null,
  "name" varchar not null,
  "slug" varchar not null,
  "description" text,
  "sort_order" integer not null default '0',
  "is_active" tinyint(1) not null default '1',
  "created_at" datetime,
  "updated_at" datetime
)`,
	`create unique index "service_categories_slug_unique" on "service_categories" ("slug")`,
	`create table "service_packages" (
  "id" integer primary key autoincrement not null,
  "category_id" integer not null,
  "code" varchar not null,
  "name" varchar not null,
  "description" text,
  "price" numeric not null check ("price" >= 0),
  "billing_cycle" varchar check ("billing_cycle" in ('monthly', 'quarterly', 'yearly', 'one_time')) not null default 'monthly',
  "is_active" tinyint(1) not null default '1',
  "created_at" datetime,
  "updated_at" datetime,
  foreign key("category_id") references "service_categories"("id") on delete cascade
)`,
	`create unique index "service_packages_code_unique" on "service_packages" ("code")`,
	`create table "customers" (
  "id" integer primary key autoincrement not null,
  "first_name" varchar not null,
  "last_name" varchar not null,
  "email" varchar not null,
  "phone" varchar,
  "company" varchar,
  "address_line1" varchar not null,
  "address_line2" varchar,
  "postal_code" varchar not null,
  "city" varchar not null,
  "country" varchar not null,
  "date_of_birth" date,
  "status" varchar check ("status" in ('lead', 'active', 'suspended', 'cancelled')) not null default 'active',
  "credit_limit" numeric not null default '0' check ("credit_limit" >= 0),
  "stripe_id" varchar,
  "pm_type" varchar,
  "pm_last_four" varchar,
  "notes" text,
  "locale" varchar not null default 'de',
  "marketing_opt_in" tinyint(1) not null default '0',
  "email_verified_at" datetime,
  "last_login_at" datetime,
  "created_at" datetime,
  "updated_at" datetime,
  "deleted_at" datetime
)`,
	`create unique index "customers_email_unique" on "customers" ("email")`,
	`create table "customer_services" (
  "id" integer primary key autoincrement not null,
  "contract_number" varchar not null,
  "customer_id" integer not null,
  "package_id" integer not null,
  "status" varchar check ("status" in ('pending', 'active', 'suspended', 'cancelled')) not null default 'pending',
  "price" numeric not null check ("price" >= 0),
  "discount_percent" integer not null default '0' check ("discount_percent" between 0 and 100),
  "started_at" date not null,
  "ends_at" date,
  "next_invoice_at" date,
  "auto_renew" tinyint(1) not null default '1',
  "notes" text,
  "created_at" datetime,
  "updated_at" datetime,
  foreign key("customer_id") references "customers"("id") on delete cascade,
  foreign key("package_id") references "service_packages"("id")
)`,
	`create unique index "customer_services_contract_number_unique" on "customer_services" ("contract_number")`,
	`create table "family_accounts" (
  "id" integer primary key autoincrement not null,
  "name" varchar not null,
  "plan" varchar check ("plan" in ('duo', 'family', 'family_plus')) not null,
  "max_members" integer not null check ("max_members" between 2 and 8),
  "billing_email" varchar not null,
  "created_at" datetime,
  "updated_at" datetime
)`,
	`create table "family_members" (
  "id" integer primary key autoincrement not null,
  "family_account_id" integer not null,
  "customer_id" integer not null,
  "role" varchar check ("role" in ('owner', 'adult', 'child')) not null,
  "joined_at" date not null,
  "created_at" datetime,
  "updated_at" datetime,
  foreign key("family_account_id") references "family_accounts"("id") on delete cascade,
  foreign key("customer_id") references "customers"("id") on delete cascade
)`,
	`create unique index "family_members_family_account_id_customer_id_unique" on "family_members" ("family_account_id", "customer_id")`,
}

// createIndexes run after the initial load, as a migration adding them
// later would.
var createIndexes = []string{
	`create index "customers_last_name_first_name_index" on "customers" ("last_name", "first_name")`,
	`create index "customers_status_index" on "customers" ("status")`,
	`create index "customers_stripe_id_index" on "customers" ("stripe_id")`,
	`create index "customer_services_customer_id_index" on "customer_services" ("customer_id")`,
	`create index "customer_services_status_next_invoice_at_index" on "customer_services" ("status", "next_invoice_at")`,
	`create index "family_members_customer_id_index" on "family_members" ("customer_id")`,
}

// Tables returns the table names in an order that respects foreign keys.
func Tables() []string {
	return []string{"service_categories", "service_packages", "customers", "customer_services", "family_accounts", "family_members"}
}

// DDL returns the statements that create the empty schema: tables, then
// indexes. Callers that load data themselves (the restic side of the
// benchmark) run the first part, load, then the indexes.
func DDL() (tables, indexes []string) {
	return append([]string(nil), createTables...), append([]string(nil), createIndexes...)
}

// CountRows counts the rows of every table of the customer database in db.
func CountRows(db *sql.DB) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range Tables() {
		var n int64
		if err := db.QueryRow(`select count(*) from "` + t + `"`).Scan(&n); err != nil {
			return nil, fmt.Errorf("counting %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}
