// Package stack runs ShopMesh locally the way the Dapr CLI's Multi-App Run
// does (`dapr run -f dapr/dapr.yaml`), without the CLI: every app next to its
// own daprd sidecar, with the ids, ports, resources and configuration of the
// Multi-App Run template, which stays the single source of those values.
//
// It is used by the runner command (local/runner) and by tests that start an
// extra app with its sidecar (see StartApp).
package stack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// TemplatePath is where the Multi-App Run template lives, relative to the repo root.
const TemplatePath = "dapr/dapr.yaml"

// rawShared holds the fields that may appear under `common` and in each app;
// an app's value, when set, overrides common's (env is merged key by key).
//
// Only the fields that local/stack maps to daprd flags are accepted: an
// unknown field is an error, so that a field added for the CLI is not silently
// ignored here. To support a new one, add it here and to daprdFlags.
type rawShared struct {
	ResourcesPaths       []string          `yaml:"resourcesPaths"`
	ConfigFilePath       string            `yaml:"configFilePath"`
	AppProtocol          string            `yaml:"appProtocol"`
	LogLevel             string            `yaml:"logLevel"`
	LogAsJSON            *bool             `yaml:"logAsJSON"`
	EnableAppHealthCheck *bool             `yaml:"enableAppHealthCheck"`
	AppHealthCheckPath   string            `yaml:"appHealthCheckPath"`
	Env                  map[string]string `yaml:"env"`

	// What the runner always does, spelled out for the Dapr CLI (see
	// checkCLIOnly): the Dapr APIs on loopback, and no placement or
	// scheduler (ShopMesh uses no actors, workflows or jobs; the CLI would
	// otherwise point every sidecar at localhost's, and a sidecar that cannot
	// reach them never reports ready).
	APIListenAddresses   *string `yaml:"apiListenAddresses"`
	PlacementHostAddress *string `yaml:"placementHostAddress"`
	SchedulerHostAddress *string `yaml:"schedulerHostAddress"`
}

type rawApp struct {
	rawShared            `yaml:",inline"`
	AppID                string   `yaml:"appID"`
	AppDirPath           string   `yaml:"appDirPath"`
	AppPort              int      `yaml:"appPort"`
	DaprHTTPPort         int      `yaml:"daprHTTPPort"`
	DaprGRPCPort         int      `yaml:"daprGRPCPort"`
	DaprInternalGRPCPort int      `yaml:"daprInternalGRPCPort"`
	MetricsPort          int      `yaml:"metricsPort"`
	Command              []string `yaml:"command"`
}

type rawTemplate struct {
	Version int       `yaml:"version"`
	Common  rawShared `yaml:"common"`
	Apps    []rawApp  `yaml:"apps"`
}

// Ports are the TCP ports one app and its sidecar listen on.
type Ports struct {
	App              int
	DaprHTTP         int
	DaprGRPC         int
	DaprInternalGRPC int
	Metrics          int
}

// PortUse names one port of an app and what it is for.
type PortUse struct {
	Role string // "app", "dapr http", "dapr grpc", "dapr internal grpc", "metrics"
	Port int
}

// List returns the ports in a fixed order with their roles.
func (p Ports) List() []PortUse {
	return []PortUse{
		{"app", p.App},
		{"dapr http", p.DaprHTTP},
		{"dapr grpc", p.DaprGRPC},
		{"dapr internal grpc", p.DaprInternalGRPC},
		{"metrics", p.Metrics},
	}
}

// AppSpec is one app of the template with common's values applied and every
// path made absolute. It is all that is needed to start the app and its daprd.
type AppSpec struct {
	// ID is the Dapr app id (--app-id, APP_ID).
	ID string
	// Name names the instance's log, pid and token files; it defaults to ID.
	// Give an extra instance of an app (see StartApp) another Name so that its
	// files do not clash with the stack's.
	Name string
	// Dir is the app's directory (appDirPath), the working directory of both
	// the app and its daprd, as with the Dapr CLI.
	Dir string
	Ports
	AppProtocol          string
	LogLevel             string
	LogAsJSON            bool
	EnableAppHealthCheck bool
	AppHealthCheckPath   string
	// Config is the absolute path of the Dapr configuration file ("" for none).
	Config string
	// ResourcesPaths are absolute resources (components) folders, in order.
	ResourcesPaths []string
	// Env is common.env merged with the app's env (the app's wins).
	Env map[string]string
	// Command is the template's command (for CLI users, e.g. `go run .`).
	// The runner does not use it: it runs the prebuilt binary instead (see
	// Layout.AppBinary), so that `up` does not compile and is fast when warm.
	Command []string
	// Binary, when set, is the app executable to run instead of
	// Layout.AppBinary(ID); tests use it to run a fake app.
	Binary string
}

// InstanceName returns Name, or ID when Name is empty.
func (s AppSpec) InstanceName() string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// Clone returns a deep copy, so that a test can change a template app freely.
func (s AppSpec) Clone() AppSpec {
	c := s
	c.ResourcesPaths = append([]string(nil), s.ResourcesPaths...)
	c.Command = append([]string(nil), s.Command...)
	c.Env = make(map[string]string, len(s.Env))
	for k, v := range s.Env {
		c.Env[k] = v
	}
	return c
}

// Template is a loaded, validated Multi-App Run template.
type Template struct {
	// Path is the absolute path of the template file.
	Path string
	Apps []AppSpec
}

// App returns a copy of the app with the given id.
func (t *Template) App(id string) (AppSpec, error) {
	for _, a := range t.Apps {
		if a.ID == id {
			return a.Clone(), nil
		}
	}
	return AppSpec{}, fmt.Errorf("app %q is not in %s", id, t.Path)
}

// IDs returns the app ids in template order.
func (t *Template) IDs() []string {
	ids := make([]string, len(t.Apps))
	for i, a := range t.Apps {
		ids[i] = a.ID
	}
	return ids
}

// LoadTemplate reads, resolves and validates a Multi-App Run template. It
// does not check that the folders and files it names exist (see CheckPaths).
func LoadTemplate(path string) (*Template, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("template path %s: %w", path, err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := ParseTemplate(data, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	t.Path = abs
	return t, nil
}

var (
	appIDPattern  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	appProtocols  = map[string]bool{"http": true, "https": true, "grpc": true, "grpcs": true, "h2c": true}
	daprLogLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true, "fatal": true}
)

// ParseTemplate parses template data; relative paths under common are
// resolved against dir (the template's folder), appDirPath against dir, and an
// app's own paths against its appDirPath, as the Dapr CLI does.
func ParseTemplate(data []byte, dir string) (*Template, error) {
	var raw rawTemplate
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse template (only fields that local/stack maps to daprd are accepted): %w", err)
	}
	if raw.Version != 1 {
		return nil, fmt.Errorf("template version is %d, want 1", raw.Version)
	}
	if len(raw.Apps) == 0 {
		return nil, errors.New("template has no apps")
	}
	var errs []error
	t := &Template{}
	ids := map[string]bool{}
	ports := map[int]string{}
	for i, ra := range raw.Apps {
		where := fmt.Sprintf("apps[%d]", i)
		if ra.AppID != "" {
			where = ra.AppID
		}
		spec, err := resolveApp(raw.Common, ra, dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if ids[spec.ID] {
			errs = append(errs, fmt.Errorf("%s: duplicate appID", where))
		}
		ids[spec.ID] = true
		for _, p := range spec.Ports.List() {
			if other, dup := ports[p.Port]; dup {
				errs = append(errs, fmt.Errorf("%s: port %d (%s) is also used by %s", where, p.Port, p.Role, other))
				continue
			}
			ports[p.Port] = fmt.Sprintf("%s (%s)", spec.ID, p.Role)
		}
		t.Apps = append(t.Apps, spec)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func resolveApp(common rawShared, ra rawApp, templateDir string) (AppSpec, error) {
	var errs []error
	if !appIDPattern.MatchString(ra.AppID) {
		errs = append(errs, fmt.Errorf("appID %q must be lower-case letters, digits and dashes", ra.AppID))
	}
	if ra.AppDirPath == "" {
		errs = append(errs, errors.New("appDirPath is required"))
	}
	s := AppSpec{
		ID:  ra.AppID,
		Dir: resolvePath(templateDir, ra.AppDirPath),
		Ports: Ports{
			App:              ra.AppPort,
			DaprHTTP:         ra.DaprHTTPPort,
			DaprGRPC:         ra.DaprGRPCPort,
			DaprInternalGRPC: ra.DaprInternalGRPCPort,
			Metrics:          ra.MetricsPort,
		},
		AppProtocol:        firstNonEmpty(ra.AppProtocol, common.AppProtocol, "http"),
		LogLevel:           firstNonEmpty(ra.LogLevel, common.LogLevel, "info"),
		LogAsJSON:          firstBool(ra.LogAsJSON, common.LogAsJSON, false),
		AppHealthCheckPath: firstNonEmpty(ra.AppHealthCheckPath, common.AppHealthCheckPath),
		Env:                map[string]string{},
		Command:            append([]string(nil), ra.Command...),
	}
	s.EnableAppHealthCheck = firstBool(ra.EnableAppHealthCheck, common.EnableAppHealthCheck, false)
	errs = append(errs, checkCLIOnly(common, ra.rawShared)...)
	for _, p := range s.Ports.List() {
		if p.Port <= 0 || p.Port > 65535 {
			errs = append(errs, fmt.Errorf("%s port %d: want 1-65535 (every port must be set explicitly)", p.Role, p.Port))
		}
	}
	if !appProtocols[s.AppProtocol] {
		errs = append(errs, fmt.Errorf("appProtocol %q: want one of http, https, grpc, grpcs, h2c", s.AppProtocol))
	}
	if !daprLogLevels[s.LogLevel] {
		errs = append(errs, fmt.Errorf("logLevel %q: want one of debug, info, warn, error, fatal", s.LogLevel))
	}
	if s.AppHealthCheckPath != "" && !strings.HasPrefix(s.AppHealthCheckPath, "/") {
		errs = append(errs, fmt.Errorf("appHealthCheckPath %q must start with /", s.AppHealthCheckPath))
	}

	// Paths: the app's own are relative to its appDirPath, common's to the template.
	if ra.ResourcesPaths != nil {
		for _, p := range ra.ResourcesPaths {
			s.ResourcesPaths = append(s.ResourcesPaths, resolvePath(s.Dir, p))
		}
	} else {
		for _, p := range common.ResourcesPaths {
			s.ResourcesPaths = append(s.ResourcesPaths, resolvePath(templateDir, p))
		}
	}
	switch {
	case ra.ConfigFilePath != "":
		s.Config = resolvePath(s.Dir, ra.ConfigFilePath)
	case common.ConfigFilePath != "":
		s.Config = resolvePath(templateDir, common.ConfigFilePath)
	}
	for k, v := range common.Env {
		s.Env[k] = v
	}
	for k, v := range ra.Env {
		s.Env[k] = v
	}
	for k := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			errs = append(errs, fmt.Errorf("env name %q is invalid", k))
		}
	}
	return s, errors.Join(errs...)
}

// checkCLIOnly refuses values of the CLI-only fields that the runner would
// not honour: it always listens on LoopbackAddress and starts no placement
// or scheduler.
func checkCLIOnly(common, app rawShared) []error {
	var errs []error
	want := func(field string, v *string, allowed string) {
		if v != nil && *v != allowed {
			errs = append(errs, fmt.Errorf("%s %q: the runner supports only %q", field, *v, allowed))
		}
	}
	for _, r := range []rawShared{common, app} {
		want("apiListenAddresses", r.APIListenAddresses, LoopbackAddress)
		want("placementHostAddress", r.PlacementHostAddress, "")
		want("schedulerHostAddress", r.SchedulerHostAddress, "")
	}
	return errs
}

// CheckPaths reports app folders, resources folders and config files that do not exist.
func (s AppSpec) CheckPaths() error {
	var errs []error
	check := func(what, p string, wantDir bool) {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %s %s does not exist", s.InstanceName(), what, p))
		case fi.IsDir() != wantDir:
			errs = append(errs, fmt.Errorf("%s: %s %s is not a %s", s.InstanceName(), what, p, map[bool]string{true: "folder", false: "file"}[wantDir]))
		}
	}
	check("app folder (appDirPath)", s.Dir, true)
	for _, p := range s.ResourcesPaths {
		check("resources folder", p, true)
	}
	if s.Config != "" {
		check("config file", s.Config, false)
	}
	return errors.Join(errs...)
}

func resolvePath(base, p string) string {
	if p == "" {
		return ""
	}
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstBool(app, common *bool, def bool) bool {
	if app != nil {
		return *app
	}
	if common != nil {
		return *common
	}
	return def
}
