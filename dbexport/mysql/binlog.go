package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"strata/dbexport"
)

// This file records where the server's binary log stood at the read
// snapshot's point in time (docs/design.md, "MySQL and MariaDB", "The
// binary log position"): replaying the binary logs from there onto a
// restore of the snapshot brings it forward to any later moment.

// noSnapshotPosition explains the missing position on a server that does
// not tie one to the read snapshot (MySQL without Percona's status
// variables).
const noSnapshotPosition = "the server does not report the binary log position of a consistent snapshot (Binlog_snapshot_file, as MariaDB and Percona Server do); MySQL needs FLUSH TABLES WITH READ LOCK for it, which strata does not take"

// readBinlog reads the binary log position of the read snapshot just
// started on conn. MariaDB and Percona Server report it in the session
// status variables Binlog_snapshot_file and Binlog_snapshot_position,
// fixed when START TRANSACTION WITH CONSISTENT SNAPSHOT ran; MariaDB's
// BINLOG_GTID_POS turns it into a GTID position.
func readBinlog(ctx context.Context, conn *sql.Conn, mariaDB bool) (*dbexport.Binlog, error) {
	var logBin int
	if err := conn.QueryRowContext(ctx, "SELECT @@log_bin").Scan(&logBin); err != nil {
		return nil, fmt.Errorf("read @@log_bin: %w", err)
	}
	if logBin == 0 {
		return &dbexport.Binlog{Enabled: false}, nil
	}
	status := map[string]string{}
	rows, err := conn.QueryContext(ctx, "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'")
	if err != nil {
		return nil, fmt.Errorf("read the binary log position: %w", err)
	}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			rows.Close()
			return nil, err
		}
		status[name] = value
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the binary log position: %w", err)
	}
	b, err := parseBinlogStatus(status)
	if err != nil {
		return nil, err
	}
	if b.File == "" || !mariaDB {
		return b, nil
	}
	var gtid sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", b.File, b.Position).Scan(&gtid); err != nil {
		return nil, fmt.Errorf("read the GTID position of %s:%d: %w", b.File, b.Position, err)
	}
	b.GTID = gtid.String
	return b, nil
}

// parseBinlogStatus reads the position from the status variables
// Binlog_snapshot_file and Binlog_snapshot_position (names in any case),
// on a server with binary logging on. Without them, or with an empty file
// name, the position is unknown and Note says why.
func parseBinlogStatus(status map[string]string) (*dbexport.Binlog, error) {
	var file, pos string
	var haveFile, havePos bool
	for k, v := range status {
		switch strings.ToLower(k) {
		case "binlog_snapshot_file":
			file, haveFile = v, true
		case "binlog_snapshot_position":
			pos, havePos = v, true
		}
	}
	b := &dbexport.Binlog{Enabled: true}
	if !haveFile || !havePos || file == "" {
		b.Note = noSnapshotPosition
		return b, nil
	}
	n, err := strconv.ParseUint(pos, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("Binlog_snapshot_position %q is not a position: %w", pos, err)
	}
	if strings.ContainsAny(file, "/\\\x00") {
		return nil, fmt.Errorf("Binlog_snapshot_file %q is not a binary log file name", file)
	}
	b.File, b.Position = file, n
	return b, nil
}
