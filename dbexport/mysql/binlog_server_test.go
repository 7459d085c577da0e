package mysql

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"strata/dbexport"
	"strata/internal/dbtest"
)

// binlogServer starts a private MariaDB server with binary logging on,
// in a temporary folder, stopped when the test ends, and returns the DSN
// of its database "app" and the folder of its binary logs. The shared
// test server runs with binary logging off, and log_bin cannot be
// switched on while a server runs.
func binlogServer(t *testing.T) (dbexport.DSN, string, []string) {
	t.Helper()
	var tools []string
	for _, name := range []string{"mariadb-install-db", "mariadbd", "mariadb-binlog", "mariadb"} {
		p, err := exec.LookPath(name)
		if err != nil {
			p, err = exec.LookPath(filepath.Join("/usr/sbin", name))
		}
		if err != nil {
			dbtest.Unreachable(t, name+" is not installed: cannot start a MariaDB server with binary logging (apt-get install mariadb-server mariadb-client)")
		}
		tools = append(tools, p)
	}
	// A short folder: the server's socket path must fit 107 bytes.
	dir, err := os.MkdirTemp("", "strata-binlog-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang, not a slow machine
	defer cancel()
	install := exec.CommandContext(ctx, tools[0], "--no-defaults", "--datadir="+data, "--user="+currentUser(),
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	port := freePort(t)
	srv := exec.Command(tools[1], "--no-defaults", "--datadir="+data, "--user="+currentUser(),
		"--bind-address=127.0.0.1", "--port="+strconv.Itoa(port), "--socket="+filepath.Join(dir, "s.sock"),
		"--pid-file="+filepath.Join(dir, "pid"), "--log-bin="+filepath.Join(data, "binlog"), "--server-id=1",
		"--innodb-buffer-pool-size=16M", "--skip-name-resolve")
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stdout, srv.Stderr = logFile, logFile
	if err := srv.Start(); err != nil {
		t.Fatalf("start mariadbd: %v", err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
		logFile.Close()
	})
	d := dbexport.DSN{Engine: dbexport.EngineMySQL, User: "root", Host: "127.0.0.1", Port: strconv.Itoa(port), Database: "mysql"}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		db, err := openDB(d, Options{})
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Fatalf("the MariaDB server with binary logging does not answer: %v\n%s", err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := CreateDatabase(context.Background(), d, "app"); err != nil {
		t.Fatal(err)
	}
	d.Database = "app"
	return d, data, tools
}

func currentUser() string {
	if os.Getuid() == 0 {
		return "root" // mariadbd refuses to run as root without being told
	}
	return strconv.Itoa(os.Getuid())
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestBinlogPointInTime backs up a table while writers go on, on a server
// with binary logging, then restores the snapshot into another database
// and replays the binary log from the snapshot's recorded position onto
// it: the result must equal the source, which holds both the snapshot's
// rows and the later ones. A position one transaction early or late
// would apply a change twice or miss one.
func TestBinlogPointInTime(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server: not in -short mode")
	}
	src, data, tools := binlogServer(t)
	binlogTool, clientTool := tools[2], tools[3]
	db := testDB(t, src)
	execAll(t, db,
		"CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL) ENGINE=InnoDB",
		"INSERT INTO acct SELECT seq, 100 FROM seq_1_to_50",
	)
	var gtidBefore string
	if err := db.QueryRow("SELECT @@gtid_binlog_pos").Scan(&gtidBefore); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := Open(ctx, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Changes after the snapshot started: not in its rows, in the binary
	// log after its position.
	execAll(t, db,
		"UPDATE acct SET balance = balance + id WHERE id % 3 = 0",
		"INSERT INTO acct VALUES (51, 7), (52, 8)",
		"DELETE FROM acct WHERE id = 10",
	)
	sc, err := s.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows bytes.Buffer
	if _, err := s.CopyOut(ctx, sc.Table("acct"), &rows); err != nil {
		t.Fatal(err)
	}
	s.Close()
	b := sc.Binlog
	if b == nil || !b.Enabled || b.File == "" || b.Position == 0 {
		t.Fatalf("binlog %+v, want a file and position", b)
	}
	if b.GTID != gtidBefore {
		t.Errorf("GTID %q, want %q (the server's position when the snapshot started)", b.GTID, gtidBefore)
	}
	if n := bytes.Count(rows.Bytes(), []byte{'\n'}); n != 50 {
		t.Fatalf("the snapshot holds %d rows, want the 50 of its start", n)
	}

	// Where the log ends before the restore writes to it.
	var stopFile string
	var stopPos uint64
	if err := db.QueryRow("SHOW MASTER STATUS").Scan(&stopFile, &stopPos, new(string), new(string)); err != nil {
		t.Fatal(err)
	}
	if stopFile != b.File {
		t.Fatalf("the server moved to binary log %s since %s", stopFile, b.File)
	}

	if err := CreateDatabase(ctx, src, "restored"); err != nil {
		t.Fatal(err)
	}
	dst := src
	dst.Database = "restored"
	if err := restoreInto(t, dst, sc, map[string][]byte{"acct": rows.Bytes()}, false); err != nil {
		t.Fatal(err)
	}
	// Replay what the source did after the snapshot, as point-in-time
	// recovery would: mariadb-binlog from the recorded position,
	// rewritten to the restored database, piped into the server.
	replay := exec.CommandContext(ctx, "sh", "-c",
		`"$1" --start-position="$2" --stop-position="$3" --rewrite-db='app->restored' "$4" | "$5" -h 127.0.0.1 -P "$6" -u root restored`,
		"replay", binlogTool, strconv.FormatUint(b.Position, 10), strconv.FormatUint(stopPos, 10),
		filepath.Join(data, b.File), clientTool, src.Port)
	if out, err := replay.CombinedOutput(); err != nil {
		t.Fatalf("replaying the binary log from %s: %v\n%s", b, err, out)
	}
	sum := func(dbName string) string {
		var v string
		q := "SELECT CONCAT(COUNT(*), ' ', SUM(id * 1000 + balance), ' ', BIT_XOR(CRC32(CONCAT(id, ':', balance)))) FROM `" + dbName + "`.acct"
		if err := db.QueryRow(q).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got, want := sum("restored"), sum("app"); got != want {
		t.Errorf("restore + binary log from %s gives %s, the source holds %s", b, got, want)
	}
}
