package mysql

import (
	"reflect"
	"strings"
	"testing"

	"strata/dbexport"
)

func TestSplitTableDDL(t *testing.T) {
	tests := []struct {
		name string
		ddl  string
		want tableDDL
	}{{
		name: "MariaDB with foreign keys and auto-increment",
		ddl: "CREATE TABLE `c` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `p` int(11) DEFAULT NULL,\n  `q` int(11) DEFAULT NULL,\n" +
			"  PRIMARY KEY (`id`),\n  KEY `fk1` (`p`),\n" +
			"  CONSTRAINT `fk1` FOREIGN KEY (`p`) REFERENCES `parent` (`id`) ON DELETE CASCADE,\n" +
			"  CONSTRAINT `chk` CHECK (`q` > 0),\n" +
			"  CONSTRAINT `fk2` FOREIGN KEY (`q`, `p`) REFERENCES `other`.`t` (`a`, `b`)\n" +
			") ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
		want: tableDDL{
			create: "CREATE TABLE `c` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `p` int(11) DEFAULT NULL,\n  `q` int(11) DEFAULT NULL,\n" +
				"  PRIMARY KEY (`id`),\n  KEY `fk1` (`p`),\n  CONSTRAINT `chk` CHECK (`q` > 0)\n" +
				") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
			foreignKeys: []string{
				"CONSTRAINT `fk1` FOREIGN KEY (`p`) REFERENCES `parent` (`id`) ON DELETE CASCADE",
				"CONSTRAINT `fk2` FOREIGN KEY (`q`, `p`) REFERENCES `other`.`t` (`a`, `b`)",
			},
			autoIncrement: "42",
		},
	}, {
		name: "quotes hide commas, parentheses and options",
		ddl: "CREATE TABLE `a(b,``c` (\n  `x,y` varchar(5) DEFAULT 'a,)''\\'' COMMENT 'AUTO_INCREMENT=3',\n  `FOREIGN KEY` int(11)\n" +
			") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT=' AUTO_INCREMENT=7'\n PARTITION BY HASH (`FOREIGN KEY`)\nPARTITIONS 2",
		want: tableDDL{
			create: "CREATE TABLE `a(b,``c` (\n  `x,y` varchar(5) DEFAULT 'a,)''\\'' COMMENT 'AUTO_INCREMENT=3',\n  `FOREIGN KEY` int(11)\n" +
				") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT=' AUTO_INCREMENT=7'\n PARTITION BY HASH (`FOREIGN KEY`)\nPARTITIONS 2",
		},
	}, {
		name: "MySQL 8",
		ddl: "CREATE TABLE `t` (\n  `id` bigint unsigned NOT NULL AUTO_INCREMENT,\n  `v` int /*!80023 INVISIBLE */,\n  PRIMARY KEY (`id`),\n" +
			"  CONSTRAINT `t_chk_1` CHECK ((`v` > 0)) /*!80016 NOT ENFORCED */\n) ENGINE=InnoDB AUTO_INCREMENT=18446744073709551615 DEFAULT CHARSET=utf8mb4",
		want: tableDDL{
			create: "CREATE TABLE `t` (\n  `id` bigint unsigned NOT NULL AUTO_INCREMENT,\n  `v` int /*!80023 INVISIBLE */,\n  PRIMARY KEY (`id`),\n" +
				"  CONSTRAINT `t_chk_1` CHECK ((`v` > 0)) /*!80016 NOT ENFORCED */\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
			autoIncrement: "18446744073709551615",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitTableDDL(tt.ddl)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseCreateTableRoundTrip(t *testing.T) {
	ddl := "CREATE TABLE `t` (\n  `a` int(11) DEFAULT NULL,\n  `b` decimal(10,2) DEFAULT 1.50,\n  KEY `k` (`a`,`b`)\n) ENGINE=InnoDB"
	ct, err := parseCreateTable(ddl)
	if err != nil {
		t.Fatal(err)
	}
	if len(ct.items) != 3 || ct.String() != ddl {
		t.Errorf("items %q, reassembled %q", ct.items, ct.String())
	}
	if _, err := parseCreateTable("CREATE TABLE `t` (`a` int"); err == nil {
		t.Error("unterminated definition list: no error")
	}
}

func TestStripDefiner(t *testing.T) {
	tests := []struct{ in, want string }{
		{"CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1 AS `1`",
			"CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1 AS `1`"},
		{"CREATE DEFINER=`we``ird`@`%` TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 'DEFINER=`x`@`y` '",
			"CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 'DEFINER=`x`@`y` '"},
		{"CREATE DEFINER=`admin_role` VIEW `v` AS select 1", "CREATE VIEW `v` AS select 1"},
		{"CREATE VIEW `v` AS select 'DEFINER=`a`@`b`' AS `x`", "CREATE VIEW `v` AS select 'DEFINER=`a`@`b`' AS `x`"},
		{"CREATE VIEW `DEFINER=` AS select 1 AS `DEFINER=x`", "CREATE VIEW `DEFINER=` AS select 1 AS `DEFINER=x`"},
	}
	for _, tt := range tests {
		if got := stripDefiner(tt.in); got != tt.want {
			t.Errorf("stripDefiner(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestStripDatabase(t *testing.T) {
	in := "CREATE VIEW `v` AS select `shop`.`t`.`id` AS `id`,'`shop`.x' AS `s` from (`shop`.`t` join `other`.`u`) where `shop2`.`z` = 1"
	want := "CREATE VIEW `v` AS select `t`.`id` AS `id`,'`shop`.x' AS `s` from (`t` join `other`.`u`) where `shop2`.`z` = 1"
	if got := stripDatabase(in, "shop"); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestIsForeignKey(t *testing.T) {
	for item, want := range map[string]bool{
		"CONSTRAINT `fk` FOREIGN KEY (`a`) REFERENCES `p` (`id`)":      true,
		"CONSTRAINT `we``ird` FOREIGN KEY (`a`) REFERENCES `p` (`id`)": true,
		"FOREIGN KEY (`a`) REFERENCES `p` (`id`)":                      true,
		"CONSTRAINT `FOREIGN KEY` CHECK (`a` > 0)":                     false,
		"`FOREIGN KEY` int(11)":                                        false,
		"KEY `fk` (`a`)":                                               false,
	} {
		if got := isForeignKey(item); got != want {
			t.Errorf("isForeignKey(%q) = %v", item, got)
		}
	}
}

// FuzzSplitTableDDL: whatever the statement, splitting neither panics nor
// loses text other than foreign keys and AUTO_INCREMENT=N.
func FuzzSplitTableDDL(f *testing.F) {
	f.Add("CREATE TABLE `t` (\n  `a` int,\n  CONSTRAINT `f` FOREIGN KEY (`a`) REFERENCES `p` (`a`)\n) ENGINE=InnoDB AUTO_INCREMENT=3")
	f.Add("CREATE TABLE `t` (`a` varchar(3) DEFAULT '(,', `b` int) COMMENT='x'")
	f.Add("CREATE TABLE `t")
	f.Add("CREATE TABLE `t` (\n  `id` int NOT NULL AUTO_INCREMENT,\n  `a` int,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `u` (`a`),\n  KEY `k` (`id`,`a`)\n)")
	f.Fuzz(func(t *testing.T, ddl string) {
		got, err := splitTableDDL(ddl)
		if err != nil {
			return
		}
		for _, fk := range got.foreignKeys {
			if !strings.Contains(ddl, fk) {
				t.Fatalf("foreign key %q not in %q", fk, ddl)
			}
		}
		stripDefiner(ddl)
		stripDatabase(ddl, "t")
		// The restore splits the keys out of a snapshot's DDL: what it
		// keeps is a CREATE TABLE again, what it moves one ALTER TABLE.
		create, addKeys, err := splitKeys(&dbexport.Table{Name: "t", DDL: ddl})
		if err != nil {
			return
		}
		if _, err := parseCreateTable(create); err != nil {
			t.Fatalf("%q without its keys does not parse: %q: %v", ddl, create, err)
		}
		if addKeys != "" && !strings.HasPrefix(addKeys, "ALTER TABLE `t` ADD ") {
			t.Fatalf("keys of %q moved as %q", ddl, addKeys)
		}
	})
}
