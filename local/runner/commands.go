package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/shopmesh/shopmesh/local/stack"
)

const usage = `usage: runner <command> [flags]

commands:
  up [-profile NAME] [-timeout D]  start every app of dapr/dapr.yaml with its daprd
                                   (apps already running are left alone) and wait
                                   until each answers 200 on /readyz
  down                             stop everything up started (by pid file)
  stop APP...                      stop these apps and their daprd (up starts them
                                   again): to run one yourself, e.g. with dapr run
  ps                               show apps and sidecars with pid, state and ports
  logs [-n N] [-f] [app]           last N (100) lines of an app's logs, or of all;
                                   -f then follows them merged, a label per line
  infra [-profile NAME | -all]     the local servers (local/<name>.sh) the profile's
                                   component YAMLs need (-all: every one known), one a line
  binaries                         SHA-256 of the executable of every running app
                                   and daprd (from /proc/<pid>/exe)
  prometheus-targets [-o FILE]     Prometheus file_sd targets (JSON, default stdout):
                                   each app's /metrics (job apps) and each daprd's
                                   metrics port (job daprd), labelled app="<app id>"

common flags (after the command):
  -root DIR      repo root (default: found from the working directory)
  -template F    Multi-App Run template (default: <root>/dapr/dapr.yaml)
`

// env is what every command needs.
type env struct {
	layout   stack.Layout
	template string
}

// withTemplate is getEnv, then the template it names, loaded.
func withTemplate(getEnv func() (env, error)) (env, *stack.Template, error) {
	e, err := getEnv()
	if err != nil {
		return env{}, nil, err
	}
	t, err := stack.LoadTemplate(e.template)
	return e, t, err
}

func commonFlags(fs *flag.FlagSet) func() (env, error) {
	root := fs.String("root", "", "repo root (default: found from the working directory)")
	tmpl := fs.String("template", "", "Multi-App Run template (default: <root>/"+stack.TemplatePath+")")
	return func() (env, error) {
		r := *root
		if r == "" {
			var err error
			if r, err = stack.FindRoot(""); err != nil {
				return env{}, err
			}
		}
		l, err := stack.NewLayout(r)
		if err != nil {
			return env{}, err
		}
		t := *tmpl
		if t == "" {
			t = filepath.Join(l.Root, stack.TemplatePath)
		}
		return env{layout: l, template: t}, nil
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errors.New("missing command")
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("runner "+cmd, flag.ContinueOnError)
	fs.SetOutput(out)
	getEnv := commonFlags(fs)
	switch cmd {
	case "up":
		profile := fs.String("profile", "", "components profile: components/NAME replaces components/local (default: the profile the stack runs, else local)")
		timeout := fs.Duration("timeout", stack.DefaultReadyTimeout, "how long to wait for every app's /readyz")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		e, t, err := withTemplate(getEnv)
		if err != nil {
			return err
		}
		return stack.Up(ctx, e.layout, t, stack.UpOptions{Profile: *profile, ReadyTimeout: *timeout, Out: out})
	case "down":
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		e, err := getEnv()
		if err != nil {
			return err
		}
		return stack.Down(ctx, e.layout, out)
	case "stop":
		if err := parse(fs, args, len(args)); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return errors.New("stop: name at least one app")
		}
		e, t, err := withTemplate(getEnv)
		if err != nil {
			return err
		}
		for _, id := range fs.Args() {
			if _, err := t.App(id); err != nil {
				return fmt.Errorf("stop: %w", err)
			}
		}
		return stack.Stop(ctx, e.layout, fs.Args(), out)
	case "ps":
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		e, t, err := withTemplate(getEnv)
		if err != nil {
			return err
		}
		rows, err := stack.Status(ctx, e.layout, t)
		if err != nil {
			return err
		}
		stack.PrintStatus(out, rows)
		return nil
	case "logs":
		n := fs.Int("n", 100, "lines per log file")
		follow := fs.Bool("f", false, "then follow the logs, merged, each line prefixed with its app")
		if err := parse(fs, args, 1); err != nil {
			return err
		}
		e, t, err := withTemplate(getEnv)
		if err != nil {
			return err
		}
		names := t.IDs()
		if fs.NArg() == 1 {
			names = []string{fs.Arg(0)}
		}
		if *follow {
			// Started before the last lines are printed, so nothing written
			// in between is missed.
			fw := stack.NewFollower(stack.LogFiles(e.layout, names), stack.IsTerminal(out))
			if err := showLogs(e.layout, names, fs.NArg() == 1, *n, out); err != nil {
				return err
			}
			return fw.Run(ctx, out, 200*time.Millisecond)
		}
		return showLogs(e.layout, names, fs.NArg() == 1, *n, out)
	case "infra":
		profile := fs.String("profile", stack.DefaultProfile, "components profile (a folder under components/)")
		all := fs.Bool("all", false, "every server some component type needs")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		e, err := getEnv()
		if err != nil {
			return err
		}
		servers := stack.AllInfra()
		if !*all {
			if servers, err = stack.Infra(e.layout.Root, *profile); err != nil {
				return err
			}
		}
		for _, s := range servers {
			fmt.Fprintln(out, s)
		}
		return nil
	case "binaries":
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		e, t, err := withTemplate(getEnv)
		if err != nil {
			return err
		}
		bins, err := stack.RunningBinaries(e.layout, t)
		if err != nil {
			return err
		}
		for _, b := range bins {
			fmt.Fprintf(out, "%s  %s %s\n", b.SHA256, b.Name, b.Role)
		}
		return nil
	case "prometheus-targets":
		file := fs.String("o", "", "write the targets to FILE, replacing it at once (default: stdout)")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		_, t, err := withTemplate(getEnv)
		if err != nil {
			return err
		}
		data, err := json.MarshalIndent(prometheusTargets(t), "", "  ")
		if err != nil {
			return err
		}
		data = append(data, '\n')
		if *file == "" {
			_, err = out.Write(data)
			return err
		}
		return writeFileAtomic(*file, data)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(out, usage)
		return nil
	default:
		fmt.Fprint(out, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// parse parses flags and allows at most maxArgs positional arguments; flags
// may also follow the positional argument (`logs gateway -n 20`).
func parse(fs *flag.FlagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	var pos []string
	for fs.NArg() > 0 {
		pos = append(pos, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if len(pos) > maxArgs {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), pos)
	}
	// Leave the positional arguments where fs.Arg finds them.
	return fs.Parse(append([]string{"--"}, pos...))
}

// showLogs prints the last n lines of each named instance's logs. For the
// one app asked for, a missing log is an error; for all apps, only a note
// when none has any.
func showLogs(l stack.Layout, names []string, asked bool, n int, out io.Writer) error {
	if asked {
		return stack.Logs(l, names[0], n, out)
	}
	shown := 0
	for _, name := range names {
		switch err := stack.Logs(l, name, n, out); {
		case errors.Is(err, stack.ErrNoLogs):
		case err != nil:
			return err
		default:
			shown++
		}
	}
	if shown == 0 {
		fmt.Fprintf(out, "no app logs in %s\n", l.LogDir)
	}
	return nil
}

// targetGroup is one entry of a Prometheus file_sd file.
type targetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// Prometheus jobs of observability/prometheus/prometheus.yml. Both read the
// one targets file; each keeps the groups whose job label is its name.
const (
	promJobApps  = "apps"
	promJobDaprd = "daprd"
)

// prometheusTargets returns, in template order, a group per app (its app
// port, job apps) and then one per daprd (its metrics port, job daprd),
// each labelled with the app id.
func prometheusTargets(t *stack.Template) []targetGroup {
	groups := make([]targetGroup, 0, 2*len(t.Apps))
	for _, job := range []string{promJobApps, promJobDaprd} {
		for _, a := range t.Apps {
			port := a.App
			if job == promJobDaprd {
				port = a.Metrics
			}
			groups = append(groups, targetGroup{
				Targets: []string{fmt.Sprintf("127.0.0.1:%d", port)},
				Labels:  map[string]string{"job": job, "app": a.ID},
			})
		}
	}
	return groups
}

// writeFileAtomic replaces path with data through a temporary file in the
// same folder and a rename, so that a reader watching path (Prometheus'
// file_sd) never sees it half written.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
