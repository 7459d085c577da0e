package jobs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"strata/internal/procgroup"
	"strata/service/config"
)

// CommandOutput is the output of a command source's running command,
// the stream a backup saves. strata daemon and strata backup --job both
// start it with StartCommand.
type CommandOutput struct {
	r    *commandReader
	stop context.CancelFunc
}

// StartCommand starts the command of src, a command source of cfg, with
// `sh -c` in a process group of its own (procgroup.Shell), in the
// environment of this process without the variables cfg reads secrets
// from (commandEnv). Its standard error is logged to log once it ends.
//
// Read the output to its end: the read that reaches it returns the
// command's failure instead of io.EOF (so a failed command saves no
// snapshot), once what the command left running (`... &`) is ended
// (SIGTERM to its group, then SIGKILL), or an error wrapping
// procgroup.ErrOutputHeld when a process that left the group (setsid)
// still holds the output. Errors name the source.
func StartCommand(ctx context.Context, cfg *config.Config, src *config.Source, log *slog.Logger) (*CommandOutput, error) {
	ctx, stop := context.WithCancel(ctx)
	r, err := startCommand(ctx, src.Name, src.Command, commandEnv(os.Environ(), cfg), log)
	if err != nil {
		stop()
		return nil, fmt.Errorf("source %s: %w", src.Name, err)
	}
	return &CommandOutput{r: r, stop: stop}, nil
}

func (c *CommandOutput) Read(p []byte) (int, error) { return c.r.Read(p) }

// Close ends the command: one whose output was not read to its end (a
// backup that failed stopped reading; the command, blocked writing,
// would never end) is stopped with its group, SIGTERM then SIGKILL.
// It returns what the read of the output's end returned, or would have.
func (c *CommandOutput) Close() error {
	if !c.r.done {
		c.stop()
	}
	err := c.r.wait()
	c.stop()
	return err
}

// commandEnv is the environment of a command source: environ without
// strata's own variables (STRATA_PASSWORD, STRATA_DASHBOARD_TOKEN...) and
// those cfg reads secrets from (the repository's password, webhook URLs,
// the dashboard's token), which its output, saved in the snapshot, could
// otherwise carry. PGPASSWORD and MYSQL_PWD stay: a dump command may need
// them.
func commandEnv(environ []string, cfg *config.Config) []string {
	drop := map[string]bool{}
	for _, s := range Secrets(cfg) {
		drop[s] = true
	}
	out := []string{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if drop[name] || strings.HasPrefix(name, "STRATA_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// commandGrace is how long a command source stopped with its run has to
// end after SIGTERM before SIGKILL.
const commandGrace = 10 * time.Second

// startCommand starts a command source. Its output is read as the
// stream to save; the reader returns the command's failure instead of
// the end of the stream, so that a failed command saves no snapshot.
func startCommand(ctx context.Context, source, command string, env []string, log *slog.Logger) (*commandReader, error) {
	// Its own process group, ended cleanly (SIGTERM, then SIGKILL) when
	// the run stops, and killed with the daemon when that is killed.
	cmd := procgroup.Shell(ctx, command, commandGrace)
	cmd.Env = env
	// Pipes of our own, not exec's: a process that left the group and
	// holds one would keep exec.Cmd.Wait waiting; procgroup.EndLeftovers
	// closes ours instead.
	out, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		out.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		out.Close()
		errR.Close()
		return nil, fmt.Errorf("starting the command: %w", err)
	}
	var stderr strings.Builder
	stderrRead := make(chan struct{})
	go func() {
		_, _ = io.Copy(&limitedWriter{w: &stderr, n: 64 << 10}, errR)
		close(stderrRead)
	}()
	// What the command leaves running when it exits (`... &`) is ended
	// then: holding the output, it would keep the backup from its end.
	drained := make(chan struct{})
	outDrained := make(chan struct{})
	go func() {
		<-outDrained
		<-stderrRead
		close(drained)
	}()
	cr := &commandReader{source: source, r: out, files: []*os.File{out, errR}, cmd: cmd, stderr: &stderr, stderrRead: stderrRead,
		log: log, drained: outDrained, settled: procgroup.EndLeftovers(cmd, commandGrace, drained, out, errR)}
	return cr, nil
}

type commandReader struct {
	source string
	r      io.Reader
	files  []*os.File // the read ends of stdout and stderr
	cmd    *exec.Cmd
	// stderr holds what the command wrote on its standard error, read to
	// its end when stderrRead is closed.
	stderr     *strings.Builder
	stderrRead <-chan struct{}
	log        *slog.Logger
	// drained is closed once the output has ended (every process holding
	// it let it go); settled receives, once what the command left running
	// is ended, whether a process outside its group still held the
	// output.
	drained     chan struct{}
	drainedOnce sync.Once
	settled     <-chan error
	done        bool
	err         error
}

func (c *commandReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil {
		c.drainedOnce.Do(func() { close(c.drained) })
		if werr := c.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// wait waits for the command once, and for what it left running to end;
// its error names the exit status and what it wrote on stderr, or says
// that a process outside the command's group held its output, which
// then may miss what that process would have written: no snapshot is
// saved of it.
func (c *commandReader) wait() error {
	if c.done {
		return c.err
	}
	c.done = true
	// A backup that stopped reading: the rest of the output is read away,
	// so that its end tells when the leftovers' SIGTERM has ended them.
	go func() {
		_, _ = io.Copy(io.Discard, c.r)
		c.drainedOnce.Do(func() { close(c.drained) })
	}()
	held := <-c.settled
	<-c.stderrRead // at once: the output's end, or closed by EndLeftovers
	for _, f := range c.files {
		f.Close()
	}
	msg := strings.TrimSpace(c.stderr.String())
	if err := c.cmd.Wait(); err != nil {
		c.err = fmt.Errorf("source %s: the command failed (%v): %s", c.source, err, msg)
	} else if held != nil {
		// The output is complete as far as the command knows, but what
		// that process writes later would be cut or missing.
		c.err = fmt.Errorf("source %s: the command exited, but %w: no snapshot is saved of an output it may still write to; send the output of what outlives the command elsewhere (>/dev/null)", c.source, held)
	}
	if msg != "" {
		c.log.Info("command's stderr: " + msg)
	}
	return c.err
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
