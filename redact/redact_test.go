package redact

import (
	"strings"
	"testing"
)

func TestCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no secret", []string{"php", "artisan", "migrate", "--force"}, "php artisan migrate --force"},
		{"--password value", []string{"tool", "--password", "hunter2", "db"}, "tool --password *** db"},
		{"--password=value", []string{"tool", "--password=hunter2"}, "tool --password=***"},
		{"--token value", []string{"deploy", "--token", "secret6"}, "deploy --token ***"},
		{"--api-key=value", []string{"curl", "--api-key=secret5", "x"}, "curl --api-key=*** x"},
		{"--API-KEY any case", []string{"x", "--API-KEY", "s3cr3t"}, "x --API-KEY ***"},
		{"-password Go style", []string{"x", "-password", "s3"}, "x -p*** ***"},
		{"-token= single dash", []string{"x", "-token=s3"}, "x -token=***"},
		{"--client-secret", []string{"x", "--client-secret", "s3", "--verbose"}, "x --client-secret *** --verbose"},
		{"--auth", []string{"x", "--auth=user:s3"}, "x --auth=***"},
		{"--credentials", []string{"x", "--credentials", "/etc/creds"}, "x --credentials ***"},
		{"--db-password-file", []string{"x", "--db-password-file", "/run/pw"}, "x --db-password-file ***"},
		{"--passwd", []string{"x", "--passwd", "s3"}, "x --passwd ***"},
		{"secret flag followed by a flag", []string{"x", "--no-password", "--verbose"}, "x --no-password --verbose"},
		{"secret flag last", []string{"x", "--password"}, "x --password"},
		{"mysql -pSECRET", []string{"mysql", "-uroot", "-phunter2", "app"}, "mysql -uroot -p*** app"},
		{"-p value", []string{"sshpass", "-p", "hunter2", "ssh", "h"}, "sshpass -p *** ssh h"},
		{"mysql -p prompts, its database masked too", []string{"mysql", "-p", "app"}, "mysql -p ***"},
		{"curl -u user:password", []string{"curl", "-u", "bob:pw", "https://h"}, "curl -u bob:*** https://h"},
		{"curl --user=user:password", []string{"curl", "--user=bob:p:w", "https://h"}, "curl --user=bob:*** https://h"},
		{"curl -uuser:password", []string{"curl", "-ubob:pw"}, "curl -ubob:***"},
		{"mysql -u user", []string{"mysql", "-u", "root", "-uroot", "--user=app"}, "mysql -u root -uroot --user=app"},
		{"json field", []string{"curl", "-d", `{"user":"u","password":"p\"w","token": 12}`}, `curl -d '{"user":"u","password":"***","token": "***"}'`},
		{"python dict field", []string{"x", `{'api_key': 'k'}`}, `x '{'\''api_key'\'': "***"}'`},
		{"env assignment", []string{"env", "DB_PASSWORD=hunter2", "PGPASSWORD=x", "MYSQL_PWD=y", "HOME=/h", "cmd"}, "env DB_PASSWORD=*** PGPASSWORD=*** MYSQL_PWD=*** HOME=/h cmd"},
		{"lower-case assignment", []string{"make", "api_token=abc"}, "make api_token=***"},
		{"url password", []string{"psql", "postgres://u:pw@h/db"}, "psql postgres://u:***@h/db"},
		{"url password with /", []string{"psql", "postgres://u:p/w@h:5432/db"}, "psql postgres://u:***@h:5432/db"},
		{"url password with @", []string{"psql", "postgresql://u:p@ss@h/db"}, "psql postgresql://u:***@h/db"},
		{"url password with / and @", []string{"x", "mysql://root:a/b@c@db.local:3306/app"}, "x mysql://root:***@db.local:3306/app"},
		{"sqlite path with : and @", []string{"x", "sqlite:///srv/a:b@c.db"}, "x sqlite:///srv/a:b@c.db"},
		{"url without password", []string{"x", "mysql://app@localhost/app"}, "x mysql://app@localhost/app"},
		{"url in a flag value", []string{"x", "--db=postgres://u:pw@h/db"}, "x --db=postgres://u:***@h/db"},
		{"url in a --db value", []string{"x", "--db", "mongodb+srv://u:pw@h/db"}, "x --db mongodb+srv://u:***@h/db"},
		{"url query password", []string{"x", "postgres://h/db?sslmode=disable&password=pw&x=1"}, "x postgres://h/db?sslmode=disable&password=***&x=1"},
		{"jdbc", []string{"x", "jdbc:postgresql://h/db?user=u&password=pw"}, "x jdbc:postgresql://h/db?user=u&password=***"},
		{"key=value DSN", []string{"psql", "host=h user=u password=pw dbname=d"}, "psql 'host=h user=u password=*** dbname=d'"},
		{"key=value DSN quoted", []string{"psql", "host=h password='p w' dbname=d"}, "psql 'host=h password=*** dbname=d'"},
		{"key = value spaced", []string{"psql", "host=h password = pw dbname=d"}, "psql 'host=h password = *** dbname=d'"},
		{"go mysql DSN", []string{"migrate", "-database", "root:pw@tcp(h:3306)/app"}, "migrate -database root:***@tcp(h:3306)/app"},
		{"go mysql DSN with @", []string{"x", "root:p@w@tcp(h)/app"}, "x root:***@tcp(h)/app"},
		{"header", []string{"curl", "-H", "Authorization: Bearer abc.def"}, "curl -H 'Authorization: ***'"},
		{"api key header", []string{"curl", "-H", "X-Api-Key: abc"}, "curl -H 'X-Api-Key: ***'"},
		{"sh -c script", []string{"sh", "-c", "mysql --password=pw -phunter2 app && curl --token t2 x"}, "sh -c 'mysql --password=*** -p*** app && curl --token *** x'"},
		{"after --", []string{"x", "--", "--password", "pw"}, "x -- --password ***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Command(tt.args)
			if got != tt.want {
				t.Errorf("Command(%q)\n got %q\nwant %q", tt.args, got, tt.want)
			}
			// Masking what is masked changes nothing.
			if again := String(got); again != got {
				t.Errorf("String(%q) = %q, not idempotent", got, again)
			}
		})
	}
}

// TestNoSecretSurvives runs every secret form with one recognisable
// secret and checks that the secret never appears in the record.
func TestNoSecretSurvives(t *testing.T) {
	const s = "Zq9/x@Y"
	for _, args := range [][]string{
		{"--password", s}, {"--password=" + s}, {"-p" + s}, {"--token", s}, {"--api-key=" + s},
		{"PASSWORD=" + s}, {"postgres://u:" + s + "@h/db"}, {"mysql://u:" + s + "@h:3306/db"},
		{"host=h password=" + s}, {"sh", "-c", "tool --secret " + s}, {"u:" + s + "@tcp(h)/db"},
		{"--Auth-Token", s}, {"--CREDENTIAL=" + s}, {"-p", s}, {"-u", "u:" + s}, {"--user", "u:" + s},
		{`{"password": "` + s + `"}`}, {"sh", "-c", "sshpass -p " + s + " ssh h"},
	} {
		if got := Command(args); strings.Contains(got, s) || strings.Contains(got, "Zq9") {
			t.Errorf("Command(%q) = %q keeps the secret", args, got)
		}
	}
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "DB_PASSWORD": true, "api-key": true, "Token": true, "client_secret": true,
		"auth": true, "credentials": true, "MYSQL_PWD": true, "sslmode": false, "keep-daily": false, "host": false,
	} {
		if got := IsSecretName(name); got != want {
			t.Errorf("IsSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}
