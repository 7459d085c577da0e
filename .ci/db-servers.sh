#!/bin/sh
# Makes sure PostgreSQL (127.0.0.1:5432, user postgres, trust) and MariaDB
# (127.0.0.1:3306, root, empty password) are running for the tests: installs
# Debian's packages when they are missing, starts them when stopped, and
# waits until they answer. Used by .ci/run and `make db-servers`.
set -eu

updated=""
install() {
	if [ -z "$updated" ]; then apt-get update -q; updated=1; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
my_up() { mariadb-admin -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1 || mysqladmin -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; }

if ! pg_up; then
	if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
		echo "installing PostgreSQL" >&2
		install postgresql
	fi
	ver=$(ls /etc/postgresql | sort -V | tail -1)
	conf=/etc/postgresql/$ver/main
	# Trust local TCP connections, as the tests expect (test machines only).
	if ! grep -q "strata-tests" "$conf/pg_hba.conf"; then
		sed -i '1i host all all 127.0.0.1/32 trust # strata-tests\nhost all all ::1/128 trust # strata-tests' "$conf/pg_hba.conf"
	fi
	pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
fi

if ! my_up; then
	if [ ! -x /usr/sbin/mariadbd ]; then
		echo "installing MariaDB" >&2
		install mariadb-server
	fi
	mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql || true
fi

i=0
until pg_up && my_up; do
	i=$((i + 1))
	if [ "$i" -gt 60 ]; then
		pg_up || echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2
		my_up || echo "MariaDB does not answer on 127.0.0.1:3306" >&2
		exit 1
	fi
	sleep 1
done
# A fresh MariaDB may require socket authentication for root: allow the
# empty password over TCP that the tests use.
mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket" 2>/dev/null || true
echo "PostgreSQL and MariaDB are running" >&2
