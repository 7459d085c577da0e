// Command demo shows strata at work in a temporary folder: it creates a
// repository, backs up a generated customer export twice (before and after
// an hour of simulated changes), and shows snapshots, stats, check and a
// verified restore. Run it with `make demo`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"strata/internal/gendata"
)

func main() {
	bin := flag.String("strata", "bin/strata", "strata binary")
	size := flag.Int64("size", 64<<20, "bytes of generated data")
	flag.Parse()
	if err := run(*bin, *size); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func run(bin string, size int64) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "strata-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("demo password\n"), 0o600); err != nil {
		return err
	}
	env := append(os.Environ(), "STRATA_REPOSITORY="+filepath.Join(dir, "repo"), "STRATA_PASSWORD_FILE="+pw)
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return err
	}
	export := filepath.Join(data, "customers.tsv")
	fmt.Printf("# generating a %d MiB customer export in %s\n", size>>20, data)
	f, err := os.Create(export)
	if err != nil {
		return err
	}
	rows, err := gendata.Write(f, size)
	if err1 := f.Close(); err == nil {
		err = err1
	}
	if err != nil {
		return err
	}
	strata := func(stdin []byte, args ...string) error {
		fmt.Printf("\n$ strata %s\n", strings.Join(args, " "))
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stdout, os.Stderr
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		return cmd.Run()
	}
	steps := []func() error{
		func() error { return strata(nil, "init") },
		func() error { return strata(nil, "backup", "--tag", "demo", "--tier", "hourly", data) },
		func() error {
			fmt.Printf("\n# one hour of business: 0.2%% of %d rows updated, new rows appended\n", rows)
			c := &gendata.Changes{Versions: map[int64]int{}, Rows: rows}
			gendata.Churn(c, 0.002, 1)
			f, err := os.Create(export)
			if err != nil {
				return err
			}
			if err := gendata.WriteVersion(f, c); err != nil {
				return err
			}
			return f.Close()
		},
		func() error { return strata(nil, "backup", "--tag", "demo", "--tier", "hourly", data) },
		func() error { return strata(nil, "snapshots") },
		func() error { return strata(nil, "stats") },
		func() error { return strata(nil, "check", "--read-data") },
		func() error { return strata(nil, "restore", "latest", "--target", filepath.Join(dir, "restore")) },
		func() error {
			want, err := os.ReadFile(export)
			if err != nil {
				return err
			}
			got, err := os.ReadFile(filepath.Join(dir, "restore", export))
			if err != nil {
				return err
			}
			if !bytes.Equal(got, want) {
				return fmt.Errorf("restored %s differs from the original", export)
			}
			fmt.Printf("\n# restored %s is byte-identical to the original (%d bytes)\n", filepath.Base(export), len(got))
			return nil
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}
