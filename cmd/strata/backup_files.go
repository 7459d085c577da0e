package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"strata/filter"
	"strata/internal/progress"
	"strata/repo"
	"strata/repo/archive"
)

// fileFlags are backup's flags for backups of paths, restic's names.
type fileFlags struct {
	exclude, iexclude            cli.StringSlice
	excludeFile, iexcludeFile    cli.StringSlice
	filesFrom                    cli.StringSlice
	excludeCaches, oneFileSystem bool
	dryRun                       bool
}

func (f *fileFlags) flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "exclude", Aliases: []string{"e"}, Usage: "leave out paths matching `PATTERN` (repeatable; \"*.tmp\" matches base names, \"/var/cache\" whole paths)", Destination: &f.exclude},
		&cli.StringSliceFlag{Name: "iexclude", Usage: "like --exclude, ignoring case", Destination: &f.iexclude},
		&cli.StringSliceFlag{Name: "exclude-file", Usage: "read --exclude patterns from `FILE`, one per line (# starts a comment)", Destination: &f.excludeFile},
		&cli.StringSliceFlag{Name: "iexclude-file", Usage: "read --iexclude patterns from `FILE`", Destination: &f.iexcludeFile},
		&cli.StringSliceFlag{Name: "files-from", Usage: "read the paths to back up from `FILE`, one per line (# starts a comment)", Destination: &f.filesFrom},
		&cli.BoolFlag{Name: "exclude-caches", Usage: "leave out the content of dirs tagged with a CACHEDIR.TAG file", Destination: &f.excludeCaches},
		&cli.BoolFlag{Name: "one-file-system", Aliases: []string{"x"}, Usage: "do not cross into other file systems (mount points)", Destination: &f.oneFileSystem},
		&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "files and --stdin: read and chunk, show what would be stored and how much, write nothing", Destination: &f.dryRun},
	}
}

// given reports whether a flag that only backups of paths take was given.
func (f *fileFlags) given() bool {
	return len(f.exclude.Value())+len(f.iexclude.Value())+len(f.excludeFile.Value())+len(f.iexcludeFile.Value())+len(f.filesFrom.Value()) > 0 ||
		f.excludeCaches || f.oneFileSystem
}

// paths returns the PATH arguments followed by the paths of --files-from.
func (f *fileFlags) paths(args []string) ([]string, error) {
	paths := append([]string(nil), args...)
	for _, file := range f.filesFrom.Value() {
		lines, err := readLines(file)
		if err != nil {
			return nil, fmt.Errorf("--files-from: %w", err)
		}
		paths = append(paths, lines...)
	}
	return paths, nil
}

// exclusions compiles the exclusion flags.
func (f *fileFlags) exclusions() (archive.Exclusions, error) {
	ex := archive.Exclusions{Caches: f.excludeCaches, OneFileSystem: f.oneFileSystem}
	for _, set := range []struct {
		patterns, files []string
		fold            bool
	}{{f.exclude.Value(), f.excludeFile.Value(), false}, {f.iexclude.Value(), f.iexcludeFile.Value(), true}} {
		patterns := set.patterns
		for _, file := range set.files {
			lines, err := readLines(file)
			if err != nil {
				return ex, fmt.Errorf("exclude file: %w", err)
			}
			patterns = append(patterns, lines...)
		}
		l, err := filter.ParseList(patterns, set.fold)
		if err != nil {
			return ex, fmt.Errorf("--exclude: %w", err)
		}
		ex.Patterns = append(ex.Patterns, l...)
	}
	return ex, nil
}

// readLines returns the lines of file that are neither empty nor
// comments, without surrounding spaces.
func readLines(file string) ([]string, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var lines []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if len(lines) == 0 {
		return nil, errors.New(file + " names nothing")
	}
	return lines, nil
}

// dryRunJSON is `backup --dry-run --json`'s summary line.
type dryRunJSON struct {
	MessageType    string       `json:"message_type"` // "summary"
	DryRun         bool         `json:"dry_run"`      // true: nothing was written
	Summary        repo.Summary `json:"summary"`      // bytes_added: plaintext of the new blobs
	FilesProcessed uint64       `json:"files_processed"`
}

func printDryRun(g *globals, sn *repo.Snapshot, files uint64, asJSON bool) error {
	s := sn.Summary
	if asJSON {
		return jsonLine(g.env.stdout, dryRunJSON{MessageType: "summary", DryRun: true, Summary: s, FilesProcessed: files})
	}
	w := g.env.stdout
	fmt.Fprintf(w, "dry run: nothing was written\n")
	fmt.Fprintf(w, "Files:  %d new, %d changed, %d unmodified\n", s.FilesNew, s.FilesChanged, s.FilesUnchanged)
	fmt.Fprintf(w, "Would read %s and add %s of new data in %s (before compression and encryption)\n",
		progress.Bytes(s.BytesRead), progress.Bytes(s.BytesAdded), counted(s.BlobsAdded, "blob"))
	return nil
}
