package mysql

import (
	"testing"

	"strata/dbexport"
)

func TestSplitKeys(t *testing.T) {
	for _, tc := range []struct {
		name, ddl, create, addKeys string
	}{
		{"plain and unique keys move",
			"CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `a` varchar(10) DEFAULT 'KEY `x` (',\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `ua` (`a`),\n  KEY `ka` (`a`(3),`id`)\n) ENGINE=InnoDB",
			"CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `a` varchar(10) DEFAULT 'KEY `x` (',\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB",
			"ALTER TABLE `t` ADD UNIQUE KEY `ua` (`a`), ADD KEY `ka` (`a`(3),`id`)"},
		{"the auto-increment column's key stays",
			"CREATE TABLE `t` (\n  `a` int(11) NOT NULL,\n  `n` int(11) NOT NULL AUTO_INCREMENT,\n  PRIMARY KEY (`a`),\n  KEY `by_n` (`n`),\n  KEY `by_a_n` (`a`,`n`)\n)",
			"CREATE TABLE `t` (\n  `a` int(11) NOT NULL,\n  `n` int(11) NOT NULL AUTO_INCREMENT,\n  PRIMARY KEY (`a`),\n  KEY `by_n` (`n`)\n)",
			"ALTER TABLE `t` ADD KEY `by_a_n` (`a`,`n`)"},
		{"fulltext and spatial stay",
			"CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `d` text,\n  `g` point NOT NULL,\n  PRIMARY KEY (`id`),\n  FULLTEXT KEY `fd` (`d`),\n  SPATIAL KEY `sg` (`g`)\n)",
			"CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `d` text,\n  `g` point NOT NULL,\n  PRIMARY KEY (`id`),\n  FULLTEXT KEY `fd` (`d`),\n  SPATIAL KEY `sg` (`g`)\n)",
			""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			create, addKeys, err := splitKeys(&dbexport.Table{Name: "t", DDL: tc.ddl})
			if err != nil {
				t.Fatal(err)
			}
			if create != tc.create || addKeys != tc.addKeys {
				t.Errorf("got\n%s\n%s\nwant\n%s\n%s", create, addKeys, tc.create, tc.addKeys)
			}
		})
	}
	if _, _, err := splitKeys(&dbexport.Table{Name: "t", DDL: "CREATE TABLE `t` (`a` int"}); err == nil {
		t.Error("an unfinished CREATE TABLE split without error")
	}
}
