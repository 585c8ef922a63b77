package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Layout says where the stack's binaries, logs, pid files and secrets live.
// NewLayout gives the repo's layout (everything under <repo>/.local); tests
// may point any field elsewhere.
type Layout struct {
	Root        string // repo root
	BinDir      string // prebuilt binaries: daprd and one per app, named by app id
	LogDir      string // <name>.log and <name>-daprd.log
	RunDir      string // <name>.pid, <name>-daprd.pid and <name>.tokens
	Daprd       string // the daprd binary
	SecretsFile string // handed to both processes as SHOPMESH_SECRETS_FILE
}

// NewLayout returns the layout of the repo at root (made absolute, symlinks resolved).
func NewLayout(root string) (Layout, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return Layout{}, fmt.Errorf("repo root %s: %w", root, err)
	}
	// One spelling of every path, however the repo was reached: pid files
	// are matched against /proc/<pid>/cmdline by exact path.
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	local := filepath.Join(abs, ".local")
	return Layout{
		Root:        abs,
		BinDir:      filepath.Join(local, "bin"),
		LogDir:      filepath.Join(local, "logs"),
		RunDir:      filepath.Join(local, "run"),
		Daprd:       filepath.Join(local, "bin", "daprd"),
		SecretsFile: filepath.Join(local, "secrets.json"),
	}, nil
}

// FindRoot walks up from dir (the working directory when empty) to the first
// folder holding dapr/dapr.yaml: the repo root. Tests use it to find the repo
// from their package folder.
func FindRoot(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("find repo root: %w", err)
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repo root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, TemplatePath)); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find repo root: no %s in %s or any parent", TemplatePath, dir)
		}
	}
}

// AppBinary is the prebuilt app executable the runner runs for an app id
// (built by `go build -o .local/bin/ ./apps/...`).
func (l Layout) AppBinary(appID string) string { return filepath.Join(l.BinDir, appID) }

// binaryFor is the executable run for spec's app.
func (l Layout) binaryFor(s AppSpec) string {
	if s.Binary != "" {
		return s.Binary
	}
	return l.AppBinary(s.ID)
}

// Role is what a process is for: the app, or its sidecar.
type Role string

const (
	RoleApp   Role = "app"
	RoleDaprd Role = "daprd"
)

func (l Layout) fileBase(name string, role Role) string {
	if role == RoleDaprd {
		return name + "-daprd"
	}
	return name
}

// LogFile is the log of one process of instance name.
func (l Layout) LogFile(name string, role Role) string {
	return filepath.Join(l.LogDir, l.fileBase(name, role)+".log")
}

// PidFile is the pid file of one process of instance name.
func (l Layout) PidFile(name string, role Role) string {
	return filepath.Join(l.RunDir, l.fileBase(name, role)+".pid")
}

// profileFile records the components profile the stack runs.
func (l Layout) profileFile() string { return filepath.Join(l.RunDir, "profile") }

// RunningProfile is the components profile the last Up started the stack
// with (until Down), else DefaultProfile.
func (l Layout) RunningProfile() string {
	data, err := os.ReadFile(l.profileFile())
	if p := strings.TrimSpace(string(data)); err == nil && p != "" {
		return p
	}
	return DefaultProfile
}

// TokensFile holds the API tokens of a running instance (mode 0600).
func (l Layout) TokensFile(name string) string {
	return filepath.Join(l.RunDir, name+".tokens")
}

func (l Layout) ensureDirs() error {
	for _, d := range []string{l.LogDir, l.RunDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}

// checkBinaries fails when daprd or the app binary is missing.
func (l Layout) checkBinaries(s AppSpec) error {
	var errs []error
	for _, b := range []struct{ what, path, hint string }{
		{"daprd", l.Daprd, "go tool task build:daprd"},
		{"app binary", l.binaryFor(s), "go tool task build"},
	} {
		fi, err := os.Stat(b.path)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			errs = append(errs, fmt.Errorf("%s: %s %s is missing or not executable (run `%s`)", s.InstanceName(), b.what, b.path, b.hint))
		}
	}
	return errors.Join(errs...)
}
