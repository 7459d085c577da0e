package redact

import (
	"path"
	"regexp"
	"strings"
)

// A short flag is one letter whose meaning is the tool's own: -p is a
// password to mysql and a port to psql, -t a token to influx and a
// terminal to docker. secretShortFlags lists, for common database and
// operations tools, the letters whose value is a secret (the next
// argument, or attached: -aSECRET); "" says the tool takes no secret in a
// short flag. A tool not listed gets defaultShortFlags: -p and -t, which
// carry a password or a token in most tools that have them. When in
// doubt, a value is masked: it costs the record a port or a container
// name, never a secret. Long flags need no table: their names say what
// they carry (IsSecretName).
var secretShortFlags = map[string]string{
	// MySQL and MariaDB: -pSECRET (a lone -p prompts; the word after it
	// is masked all the same).
	"mysql": "p", "mysqldump": "p", "mysqladmin": "p", "mysqlimport": "p", "mysqlcheck": "p", "mysqlshow": "p",
	"mysqlpump": "p", "mysqlbinlog": "p", "mysqlsh": "p", "mysqlslap": "p",
	"mariadb": "p", "mariadb-dump": "p", "mariadb-admin": "p", "mariadb-import": "p", "mariadb-check": "p",
	"mariadb-show": "p", "mariadb-binlog": "p", "mariadb-backup": "p", "mariabackup": "p", "xtrabackup": "p",
	"mydumper": "p", "myloader": "p",
	// PostgreSQL takes passwords from PGPASSWORD, .pgpass or a DSN only:
	// its -p is the port, its -t tuples only.
	"psql": "", "pg_dump": "", "pg_dumpall": "", "pg_restore": "", "pg_basebackup": "", "pg_isready": "",
	"createdb": "", "dropdb": "", "createuser": "", "dropuser": "", "vacuumdb": "", "reindexdb": "", "clusterdb": "",
	"pgbench": "", "pg_upgrade": "", "pg_ctl": "", "pg_receivewal": "", "pg_recvlogical": "",
	// Redis and its forks: -a is the password; -p the port.
	"redis-cli": "a", "valkey-cli": "a", "keydb-cli": "a", "redis-benchmark": "a",
	// MongoDB: -p is the password.
	"mongo": "p", "mongosh": "p", "mongodump": "p", "mongorestore": "p", "mongoexport": "p", "mongoimport": "p",
	"mongostat": "p", "mongotop": "p", "mongofiles": "p",
	// SQL Server: -P is the password.
	"sqlcmd": "P", "bcp": "P", "osql": "P",
	// Cassandra.
	"cqlsh": "p", "nodetool": "p",
	// InfluxDB and DigitalOcean: -t is the token.
	"influx": "t", "doctl": "t",
	// OpenLDAP: -w is the bind password; ldappasswd's -a and -s the old
	// and new ones.
	"ldapsearch": "w", "ldapadd": "w", "ldapmodify": "w", "ldapdelete": "w", "ldapwhoami": "w",
	"ldapcompare": "w", "ldapmodrdn": "w", "ldapexop": "w", "ldappasswd": "was",
	// OpenSSL: -k is the passphrase (its -pass and -passin are long).
	"openssl": "k",
	// Archives: the password.
	"zip": "P", "unzip": "P", "7z": "p", "7za": "p", "7zz": "p", "rar": "p", "unrar": "p",
	"sshpass": "p",
	// docker and podman login: -p is the password (and a port mapping
	// to run, masked all the same).
	"docker": "p", "podman": "p", "nerdctl": "p", "buildah": "p", "skopeo": "p",
	// Ops tools whose short flags carry no secret.
	"kubectl": "", "oc": "", "ssh": "", "scp": "", "sftp": "", "rsync": "", "tar": "", "sort": "",
	"git": "", "systemctl": "", "journalctl": "", "tail": "", "head": "", "grep": "", "nc": "", "ls": "",
	"cp": "", "mv": "", "rm": "", "mkdir": "", "chmod": "", "chown": "", "find": "", "xargs": "", "gzip": "",
	"zstd": "", "cat": "", "echo": "",
}

// defaultShortFlags are the secret short flags of a tool not in the table.
const defaultShortFlags = "pt"

// sambaTools take the user as -U user%password.
var sambaTools = map[string]bool{"smbclient": true, "rpcclient": true, "smbcacls": true, "smbget": true, "net": true, "smbmap": true}

// oracleTools take user/password@database as an operand.
var oracleTools = map[string]bool{"sqlplus": true, "sqlldr": true, "exp": true, "imp": true, "expdp": true, "impdp": true,
	"rman": true, "dgmgrl": true, "sql": true, "tkprof": true}

// oracleLogin is an Oracle tool's user/password[@database].
var oracleLogin = regexp.MustCompile(`^([^/\s'"@=-][^/\s'"@=]*)/([^@\s]+)(@.*)?$`)

// toolName is the name of the tool an argument names: its base name,
// without .exe, in lower case.
func toolName(word string) string {
	word = strings.Trim(word, `"'`+"`$(")
	return strings.TrimSuffix(strings.ToLower(path.Base(word)), ".exe")
}

// knownTool reports whether name is in the table; an argument naming a
// known tool starts its flags (docker exec -it c redis-cli -a x).
func knownTool(name string) bool {
	_, ok := secretShortFlags[name]
	return ok || sambaTools[name] || oracleTools[name]
}

// shortFlags returns the letters of tool's secret short flags.
func shortFlags(tool string) string {
	if f, ok := secretShortFlags[tool]; ok {
		return f
	}
	if sambaTools[tool] || oracleTools[tool] {
		return ""
	}
	return defaultShortFlags
}

// secretShort reports whether a, of the form -X or -Xvalue, starts with a
// short flag of tool that carries a secret.
func secretShort(a, tool string) bool {
	return len(a) >= 2 && a[0] == '-' && a[1] != '-' && strings.IndexByte(shortFlags(tool), a[1]) >= 0
}

// separator reports whether the word after w is a new command in a shell
// line (cmd1 && cmd2, cmd1; cmd2, cmd1 | cmd2), or after `--` the command
// a wrapper runs (kubectl exec pod -- tool).
func separator(w string) bool {
	switch w {
	case "&&", "||", "|", "|&", ";", "&", "!", "(", "{", "then", "do", "else", "--", "exec":
		return true
	}
	return strings.HasSuffix(w, ";") || strings.HasSuffix(w, "&&") || strings.HasSuffix(w, "||") || strings.HasSuffix(w, "|")
}
