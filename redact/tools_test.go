package redact

import (
	"strings"
	"testing"
)

// TestToolForms: the secret forms of common database and operations tools
// (short flags from the tool table, assignments before a command, quoted
// values inside sh -c), and the short flags that stay because the tool
// takes no secret in them.
func TestToolForms(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"redis-cli -a value", []string{"redis-cli", "-a", "S1", "ping"}, "redis-cli -a *** ping"},
		{"redis-cli -aSECRET", []string{"redis-cli", "-h", "h", "-aS1"}, "redis-cli -h h -a***"},
		{"redis-cli -p is the port", []string{"redis-cli", "-p", "6380", "-a", "S1"}, "redis-cli -p 6380 -a ***"},
		{"redis-cli -u URL", []string{"redis-cli", "-u", "redis://default:S1@h:6379/0"}, "redis-cli -u redis://default:***@h:6379/0"},
		{"redis-cli -u URL with an empty user", []string{"redis-cli", "-u", "redis://:S1@h:6379"}, "redis-cli -u redis://:***@h:6379"},
		{"redis-cli behind docker exec", []string{"docker", "exec", "-it", "cache", "redis-cli", "-a", "S1", "flushall"}, "docker exec -it cache redis-cli -a *** flushall"},
		{"mysql by path -pSECRET", []string{"/usr/bin/mysql", "-uroot", "-pS1", "app"}, "/usr/bin/mysql -uroot -p*** app"},
		{"mariadb-dump -pSECRET", []string{"mariadb-dump", "-pS1", "--single-transaction", "app"}, "mariadb-dump -p*** --single-transaction app"},
		{"psql -p is the port, -t tuples only", []string{"psql", "-h", "db", "-p", "5433", "-t", "-c", "select 1"}, "psql -h db -p 5433 -t -c 'select 1'"},
		{"pg_dump -p port", []string{"pg_dump", "-p5433", "app"}, "pg_dump -p5433 app"},
		{"influx -t token", []string{"influx", "query", "-t", "S1", "from(bucket)"}, "influx query -t *** from(bucket)"},
		{"unknown tool -t value", []string{"deploy-tool", "-t", "S1", "prod"}, "deploy-tool -t *** prod"},
		{"unknown tool -tVALUE", []string{"deploy-tool", "-tS1"}, "deploy-tool -t***"},
		{"docker -t is a terminal", []string{"docker", "exec", "-t", "app", "php", "artisan", "migrate"}, "docker exec -t app php artisan migrate"},
		{"ssh -t and -p", []string{"ssh", "-t", "-p", "2222", "db1", "sudo", "systemctl", "restart", "app"}, "ssh -t -p 2222 db1 sudo systemctl restart app"},
		{"sqlcmd -P", []string{"sqlcmd", "-S", "h", "-U", "sa", "-P", "S1", "-Q", "backup"}, "sqlcmd -S h -U sa -P *** -Q backup"},
		{"ldapsearch -w", []string{"ldapsearch", "-x", "-D", "cn=admin", "-w", "S1", "-b", "dc=x"}, "ldapsearch -x -D cn=admin -w *** -b dc=x"},
		{"ldapsearch -wSECRET", []string{"ldapsearch", "-wS1"}, "ldapsearch -w***"},
		{"openssl -k", []string{"openssl", "enc", "-aes256", "-k", "S1", "-in", "f"}, "openssl enc -aes256 -k *** -in f"},
		{"mongosh -p", []string{"mongosh", "-u", "admin", "-p", "S1"}, "mongosh -u admin -p ***"},
		{"zip -P", []string{"zip", "-P", "S1", "out.zip", "f"}, "zip -P *** out.zip f"},
		{"smbclient -U user%password", []string{"smbclient", "//h/share", "-U", "bob%S1"}, "smbclient //h/share -U bob%***"},
		{"smbclient -Uuser%password", []string{"smbclient", "-Ubob%S1"}, "smbclient -Ubob%***"},
		{"sqlplus user/password@db", []string{"sqlplus", "-s", "scott/S1@//h:1521/orcl"}, "sqlplus -s scott/***@//h:1521/orcl"},
		{"sqlplus user/password", []string{"sqlplus", "scott/S1", "@script.sql"}, "sqlplus scott/*** @script.sql"},
		{"PGPASSWORD before the command", []string{"PGPASSWORD=S1", "psql", "-h", "h", "-p", "5432"}, "PGPASSWORD=*** psql -h h -p 5432"},
		{"sh -c with PGPASSWORD", []string{"sh", "-c", "PGPASSWORD=S1 psql -h h"}, "sh -c 'PGPASSWORD=*** psql -h h'"},
		{"sh -c with export", []string{"bash", "-lc", "export MYSQL_PWD=S1; mysql app < m.sql"}, "bash -lc 'export MYSQL_PWD=***; mysql app < m.sql'"},
		{"sh -c --password='quoted words'", []string{"sh", "-c", "mysql --password='S1 S2' app"}, "sh -c 'mysql --password=*** app'"},
		{`sh -c --password="quoted words"`, []string{"sh", "-c", `mysql --password="S1 S2" app`}, "sh -c 'mysql --password=*** app'"},
		{"sh -c redis-cli -a", []string{"sh", "-c", "redis-cli -a S1 ping && echo ok"}, "sh -c 'redis-cli -a *** ping && echo ok'"},
		{"sh -c -a with a quoted value", []string{"sh", "-c", "redis-cli -a 'S1 S2' ping"}, "sh -c 'redis-cli -a *** ping'"},
		{"sh -c second command's flag", []string{"sh", "-c", "psql -p 5432 -c 'select 1'; redis-cli -a S1 save"}, `sh -c 'psql -p 5432 -c '\''select 1'\''; redis-cli -a *** save'`},
		{"sh -c value ending a command", []string{"sh", "-c", "ldapsearch -w S1; deploy -t S2"}, "sh -c 'ldapsearch -w ***; deploy -t ***'"},
		{"nested sh -c", []string{"sh", "-c", `bash -c "mysql -uroot -pS1 app"`}, `sh -c 'bash -c "mysql -uroot -p*** app"'`},
		{"kubectl exec -- tool -t", []string{"kubectl", "exec", "-t", "pod", "--", "deploy-tool", "-t", "S1"}, "kubectl exec -t pod -- deploy-tool -t ***"},
		{"docker run -e", []string{"docker", "run", "-e", "POSTGRES_PASSWORD=S1", "--env=REDIS_AUTH=S2", "postgres"}, "docker run -e POSTGRES_PASSWORD=*** --env=REDIS_AUTH=*** postgres"},
		{"docker login -p", []string{"docker", "login", "-u", "bob", "-p", "S1", "registry"}, "docker login -u bob -p *** registry"},
		{"env with an assignment holding spaces", []string{"env", "GREETING=a b", "x"}, "env 'GREETING=a b' x"},
		{"sudo -u then tool", []string{"sudo", "-u", "postgres", "psql", "-p", "5433"}, "sudo -u postgres psql -p 5433"},
		{"--password:value", []string{"x", "--password:S1"}, "x --password:***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Command(tt.args)
			if got != tt.want {
				t.Errorf("Command(%q)\n got %q\nwant %q", tt.args, got, tt.want)
			}
			if strings.Contains(got, "S1") || strings.Contains(got, "S2") {
				t.Errorf("Command(%q) = %q keeps a secret", tt.args, got)
			}
			if again := String(got); again != got {
				t.Errorf("String(%q) = %q, not idempotent", got, again)
			}
		})
	}
}
