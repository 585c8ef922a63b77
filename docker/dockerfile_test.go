// Package docker checks the apps' Dockerfiles without a Docker engine: each
// apps/<app>/Dockerfile must follow the shared pattern (docs/dockerfiles.md),
// and its `go build` command is run exactly as the builder stage would run it,
// from the repository root (the build context), producing a static binary.
package docker

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The pattern every app image follows.
const (
	builderImagePrefix = "golang:"
	finalImage         = "gcr.io/distroless/static-debian12:nonroot"
	binaryInBuilder    = "/out/app"
	binaryInImage      = "/app"
	// distroless's nonroot user and group, numerically so that Kubernetes can
	// verify runAsNonRoot.
	nonRootUser = "65532:65532"
)

// repoRoot walks up from the package folder to the folder holding go.mod and
// dapr/dapr.yaml.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, "dapr", "dapr.yaml")) {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no repository root (go.mod + dapr/dapr.yaml) above %s", dir)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// appDirs returns the app ids under apps/ (folders), sorted.
func appDirs(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "apps"))
	if err != nil {
		t.Fatal(err)
	}
	var apps []string
	for _, e := range entries {
		if e.IsDir() {
			apps = append(apps, e.Name())
		}
	}
	return apps
}

// TestEveryCommandHasADockerfile: an app folder with a main.go is a command
// and ships as an image.
func TestEveryCommandHasADockerfile(t *testing.T) {
	root := repoRoot(t)
	for _, app := range appDirs(t, root) {
		dir := filepath.Join(root, "apps", app)
		if fileExists(filepath.Join(dir, "main.go")) && !fileExists(filepath.Join(dir, "Dockerfile")) {
			t.Errorf("apps/%s has a main.go but no Dockerfile (copy apps/catalog/Dockerfile, see docs/dockerfiles.md)", app)
		}
	}
}

// TestDockerfiles checks each apps/<app>/Dockerfile and runs its go build.
func TestDockerfiles(t *testing.T) {
	root := repoRoot(t)
	ports := appPorts(t, root)
	goVersion := goModVersion(t, root)
	ignore := readDockerignore(t, root)
	found := false
	for _, app := range appDirs(t, root) {
		path := filepath.Join(root, "apps", app, "Dockerfile")
		if !fileExists(path) {
			continue
		}
		found = true
		t.Run(app, func(t *testing.T) {
			t.Parallel()
			df := parseDockerfile(t, path)
			build := checkPattern(t, df, app, goVersion, ports)
			if t.Failed() {
				return
			}
			if !fileExists(filepath.Join(root, "apps", app, "main.go")) {
				t.Skipf("apps/%s has no main.go yet: nothing to build", app)
			}
			checkContext(t, root, app, ignore)
			bin := runBuild(t, root, build)
			checkStatic(t, bin, build.env["GOARCH"])
		})
	}
	if !found {
		t.Fatal("no apps/*/Dockerfile found")
	}
}

// ---- Dockerfile parsing ----

type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, …
	args string
}

type stage struct {
	image    string
	name     string
	platform string
	instrs   []instruction
}

type dockerfile struct {
	path   string
	args   map[string]string // global ARGs and builder ARG defaults
	stages []stage
}

// parseDockerfile reads instructions, joining continuation lines and dropping
// comments and the parser directive.
func parseDockerfile(t *testing.T, path string) *dockerfile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	df := &dockerfile{path: path, args: map[string]string{}}
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	flush := func() {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			df.stages = append(df.stages, parseFrom(t, in))
			return
		}
		if len(df.stages) == 0 {
			if in.cmd == "ARG" {
				k, v, _ := strings.Cut(in.args, "=")
				df.args[k] = v
				return
			}
			t.Fatalf("%s:%d: %s before the first FROM", path, in.line, in.cmd)
		}
		last := &df.stages[len(df.stages)-1]
		last.instrs = append(last.instrs, in)
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments (and the syntax directive), also inside continuations
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\"))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return df
}

func parseFrom(t *testing.T, in instruction) stage {
	t.Helper()
	words := strings.Fields(in.args)
	var s stage
	for len(words) > 0 && strings.HasPrefix(words[0], "--") {
		if v, ok := strings.CutPrefix(words[0], "--platform="); ok {
			s.platform = v
		}
		words = words[1:]
	}
	switch {
	case len(words) == 1:
		s.image = words[0]
	case len(words) == 3 && strings.EqualFold(words[1], "AS"):
		s.image, s.name = words[0], words[2]
	default:
		t.Fatalf("line %d: cannot read FROM %s", in.line, in.args)
	}
	return s
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// vars returns the stage's ARG defaults and ENV values, in order, on top of
// the global ARGs. Docker's own build arguments (TARGETOS, TARGETARCH) take
// the defaults written in the file, as in a plain `docker build` on amd64.
func (s stage) vars(t *testing.T, global map[string]string) (vars, env map[string]string) {
	t.Helper()
	vars = map[string]string{}
	for k, v := range global {
		vars[k] = v
	}
	env = map[string]string{}
	for _, in := range s.instrs {
		switch in.cmd {
		case "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			vars[k] = v
		case "ENV":
			words, err := shellWords(in.args, vars)
			if err != nil {
				t.Fatalf("line %d: ENV: %v", in.line, err)
			}
			for _, w := range words {
				k, v, ok := strings.Cut(w, "=")
				if !ok {
					t.Fatalf("line %d: ENV %q: use the KEY=value form", in.line, in.args)
				}
				vars[k] = v
				env[k] = v
			}
		}
	}
	return vars, env
}

// shellWords splits a shell command line into words, expanding $VAR and
// ${VAR} from vars, honouring single and double quotes. It is enough for the
// simple RUN and ENV lines of our Dockerfiles and rejects what it cannot read.
func shellWords(s string, vars map[string]string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			if quote == c {
				quote = 0
			} else if quote == 0 {
				quote = c
			} else {
				cur.WriteByte(c)
			}
			inWord = true
		case c == '$':
			name, n := varName(s[i+1:])
			if name == "" {
				return nil, fmt.Errorf("cannot expand %q", s[i:])
			}
			v, ok := vars[name]
			if !ok {
				return nil, fmt.Errorf("$%s is not an ARG or ENV of the stage", name)
			}
			cur.WriteString(v)
			inWord = true
			i += n
		case c == '\\' && quote == 0 && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case (c == ' ' || c == '\t') && quote == 0:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.IndexByte(";&|<>`(){}", c) >= 0 && quote == 0:
			return nil, fmt.Errorf("shell syntax %q is not supported here: keep the line a single command", c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

var varNameRE = regexp.MustCompile(`^(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`)

// varName reads a variable name after '$' and returns it with the length read.
func varName(s string) (string, int) {
	m := varNameRE.FindStringSubmatch(s)
	if m == nil {
		return "", 0
	}
	if m[1] != "" {
		return m[1], len(m[0])
	}
	return m[2], len(m[0])
}

// ---- The pattern ----

// goBuild is the builder's go build command.
type goBuild struct {
	line   int
	env    map[string]string // ENV of the stage and the RUN line's assignments
	args   []string          // after "go build"
	output string
}

// checkPattern checks the shared pattern and returns the go build to run.
func checkPattern(t *testing.T, df *dockerfile, app, goVersion string, ports map[string]int) goBuild {
	t.Helper()
	if len(df.stages) != 2 {
		t.Fatalf("want 2 stages (builder, final), found %d", len(df.stages))
	}
	builder, final := df.stages[0], df.stages[1]

	// Builder: golang of go.mod's release series, named, for the build platform.
	if !strings.HasPrefix(builder.image, builderImagePrefix) {
		t.Errorf("builder stage FROM %s: want %s<go version>-…", builder.image, builderImagePrefix)
	} else {
		if err := checkGoTag(strings.TrimPrefix(builder.image, builderImagePrefix), goVersion); err != nil {
			t.Error(err)
		}
	}
	if builder.name == "" {
		t.Error("builder stage has no name (FROM … AS build)")
	}
	if builder.platform != "$BUILDPLATFORM" {
		t.Errorf("builder stage: want FROM --platform=$BUILDPLATFORM (cross-compile), got %q", builder.platform)
	}
	if len(builder.all("COPY")) == 0 {
		t.Error("builder stage copies nothing from the context")
	}

	// Final: distroless static, non-root, the binary only.
	if final.image != finalImage {
		t.Errorf("final stage FROM %s, want %s", final.image, finalImage)
	}
	users := final.all("USER")
	if len(users) != 1 || users[0].args != nonRootUser {
		t.Errorf("final stage: want exactly one USER %s (distroless nonroot:nonroot, numeric), got %v", nonRootUser, users)
	}
	if len(final.all("RUN")) != 0 {
		t.Error("final stage has RUN instructions: distroless has no shell")
	}
	copies := final.all("COPY")
	wantCopy := fmt.Sprintf("--from=%s %s %s", builder.name, binaryInBuilder, binaryInImage)
	if len(copies) != 1 || strings.Join(strings.Fields(copies[0].args), " ") != wantCopy {
		t.Errorf("final stage: want exactly COPY %s, got %v", wantCopy, copies)
	}
	ep := final.all("ENTRYPOINT")
	if len(ep) != 1 || strings.ReplaceAll(ep[0].args, " ", "") != `["`+binaryInImage+`"]` {
		t.Errorf("final stage: want ENTRYPOINT [\"%s\"] (exec form), got %v", binaryInImage, ep)
	}
	_, env := final.vars(t, df.args)
	if env["APP_ID"] != app {
		t.Errorf("final stage: ENV APP_ID=%q, want %q", env["APP_ID"], app)
	}
	if env["LISTEN_HOST"] != "0.0.0.0" {
		t.Errorf("final stage: ENV LISTEN_HOST=%q, want 0.0.0.0 (kubelet probes reach the pod IP)", env["LISTEN_HOST"])
	}
	exposes := final.all("EXPOSE")
	if len(exposes) != 1 {
		t.Errorf("final stage: want one EXPOSE, got %v", exposes)
	} else {
		port, err := strconv.Atoi(strings.TrimSuffix(exposes[0].args, "/tcp"))
		if err != nil {
			t.Errorf("EXPOSE %s: %v", exposes[0].args, err)
		}
		if env["APP_PORT"] != strconv.Itoa(port) {
			t.Errorf("ENV APP_PORT=%q but EXPOSE %d", env["APP_PORT"], port)
		}
		if want, ok := ports[app]; ok && want != port {
			t.Errorf("EXPOSE %d, but dapr/dapr.yaml gives %s appPort %d", port, app, want)
		}
	}

	// The build command.
	var runs []instruction
	for _, in := range builder.all("RUN") {
		if strings.Contains(in.args, "go build") {
			runs = append(runs, in)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("builder stage: want exactly one RUN with go build, found %d", len(runs))
	}
	vars, env := builder.vars(t, df.args)
	b := parseGoBuild(t, runs[0], vars, env)
	if b.env["CGO_ENABLED"] != "0" {
		t.Errorf("line %d: go build without CGO_ENABLED=0", b.line)
	}
	if b.env["GOOS"] != "linux" {
		t.Errorf("line %d: GOOS=%q, want linux", b.line, b.env["GOOS"])
	}
	if !slices.Contains(b.args, "-trimpath") {
		t.Errorf("line %d: go build without -trimpath", b.line)
	}
	if ld := flagValue(b.args, "-ldflags"); !strings.Contains(" "+ld+" ", " -s ") || !strings.Contains(" "+ld+" ", " -w ") {
		t.Errorf("line %d: -ldflags=%q, want -s -w (stripped)", b.line, ld)
	}
	if b.output != binaryInBuilder {
		t.Errorf("line %d: go build -o %q, want %s", b.line, b.output, binaryInBuilder)
	}
	if pkg := b.args[len(b.args)-1]; pkg != "./apps/"+app {
		t.Errorf("line %d: builds %s, want ./apps/%s", b.line, pkg, app)
	}
	return b
}

// checkGoTag accepts golang:<major.minor>-… (the newest patch of go.mod's
// series) or golang:<major.minor.patch>-… not older than go.mod.
func checkGoTag(tag, goMod string) error {
	v, _, _ := strings.Cut(tag, "-")
	have, want := versionParts(v), versionParts(goMod)
	if len(have) < 2 || len(want) < 2 {
		return fmt.Errorf("golang:%s: cannot compare with go.mod's go %s", tag, goMod)
	}
	if have[0] != want[0] || have[1] != want[1] {
		return fmt.Errorf("golang:%s is not go.mod's release series (go %s)", tag, goMod)
	}
	if len(have) == 3 && len(want) == 3 && have[2] < want[2] {
		return fmt.Errorf("golang:%s is older than go.mod's go %s", tag, goMod)
	}
	return nil
}

func versionParts(v string) []int {
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// parseGoBuild reads `[--mount=…]… [VAR=value]… go build <args>`.
func parseGoBuild(t *testing.T, in instruction, vars, stageEnv map[string]string) goBuild {
	t.Helper()
	args := in.args
	for strings.HasPrefix(args, "--") {
		_, rest, _ := strings.Cut(args, " ")
		args = strings.TrimSpace(rest)
	}
	words, err := shellWords(args, vars)
	if err != nil {
		t.Fatalf("line %d: RUN %s: %v", in.line, in.args, err)
	}
	b := goBuild{line: in.line, env: map[string]string{}}
	for k, v := range stageEnv {
		b.env[k] = v
	}
	for len(words) > 0 && strings.Contains(words[0], "=") {
		k, v, _ := strings.Cut(words[0], "=")
		b.env[k] = v
		words = words[1:]
	}
	if len(words) < 3 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("line %d: want [VAR=value]… go build …, got %q", in.line, words)
	}
	b.args = words[2:]
	b.output = flagValue(b.args, "-o")
	return b
}

// flagValue returns the value of -name=value or -name value in args.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// ---- Running the build ----

// runBuild runs the Dockerfile's go build from the repository root with the
// Dockerfile's environment, writing the binary into a temporary folder.
func runBuild(t *testing.T, root string, b goBuild) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "app")
	args := slices.Clone(b.args)
	replaced := false
	for i, a := range args {
		switch {
		case a == "-o" && i+1 < len(args):
			args[i+1] = out
			replaced = true
		case strings.HasPrefix(a, "-o="):
			args[i] = "-o=" + out
			replaced = true
		}
	}
	if !replaced {
		t.Fatal("go build has no -o")
	}
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = root
	env := os.Environ()
	for k, v := range b.env {
		env = append(env, k+"="+v)
	}
	cmd.Env = append(env, "GOFLAGS=", "GOWORK=off")
	t.Logf("(cd %s && %s go %s)", root, envString(b.env), shellJoin(cmd.Args[1:]))
	if outb, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build as in the Dockerfile failed: %v\n%s", err, outb)
	}
	return out
}

// shellJoin quotes the words that need it, for a copy-pasteable log line.
func shellJoin(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if strings.ContainsAny(w, " \t'\"$") {
			w = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		out[i] = w
	}
	return strings.Join(out, " ")
}

func envString(env map[string]string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, shellJoin([]string{k + "=" + env[k]}))
	}
	return strings.Join(parts, " ")
}

// checkStatic fails unless bin is an ELF executable for goarch with no
// program interpreter and no dynamic section: it runs on distroless/static.
func checkStatic(t *testing.T, bin, goarch string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("%s is not an ELF file: %v", bin, err)
	}
	defer f.Close()
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	if goarch == "" {
		goarch = runtime.GOARCH
	}
	if want, ok := machines[goarch]; ok && f.Machine != want {
		t.Errorf("binary is for %v, want %v (GOARCH=%s)", f.Machine, want, goarch)
	}
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			t.Error("binary has a program interpreter (PT_INTERP): it is dynamically linked")
		case elf.PT_DYNAMIC:
			t.Error("binary has a dynamic segment (PT_DYNAMIC): it is dynamically linked")
		}
	}
	if f.Section(".interp") != nil || f.Section(".dynamic") != nil {
		t.Error("binary has .interp/.dynamic sections: it is dynamically linked")
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		t.Errorf("binary needs shared libraries %v", libs)
	}
}

// ---- The build context ----

// checkContext fails if .dockerignore excludes a file of the main module that
// the app's build reads: its packages' Go and embedded files, go.mod, go.sum.
func checkContext(t *testing.T, root, app string, ignore *dockerignore) {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps",
		"-f", `{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`,
		"./apps/"+app)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	files := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		rel, err := filepath.Rel(root, line)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		files = append(files, filepath.ToSlash(rel))
	}
	if len(files) < 3 {
		t.Fatalf("go list found no files for ./apps/%s", app)
	}
	for _, f := range files {
		if ignore.excludes(f) {
			t.Errorf(".dockerignore excludes %s, which the %s build needs", f, app)
		}
	}
}

type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

type dockerignore struct{ rules []ignoreRule }

// readDockerignore reads the root .dockerignore (Docker's syntax: one pattern
// a line, # comments, ! re-includes, ** any number of folders, the last
// matching line wins, a pattern also excludes everything below a match).
func readDockerignore(t *testing.T, root string) *dockerignore {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatalf("the build context needs a .dockerignore at the repository root: %v", err)
	}
	d := &dockerignore{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if p, ok := strings.CutPrefix(line, "!"); ok {
			r.negate, line = true, strings.TrimSpace(p)
		}
		line = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/")
		r.re = regexp.MustCompile("^" + globToRegexp(line) + "$")
		d.rules = append(d.rules, r)
	}
	for _, must := range []string{".git", ".local", "tests"} {
		if !d.excludes(must + "/x") {
			t.Errorf(".dockerignore does not exclude %s", must)
		}
	}
	return d
}

func globToRegexp(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// excludes reports whether path (slash-separated, relative to the context) is
// left out of the build context.
func (d *dockerignore) excludes(path string) bool {
	excluded := false
	for _, r := range d.rules {
		if matchSelfOrParent(r.re, path) {
			excluded = !r.negate
		}
	}
	return excluded
}

func matchSelfOrParent(re *regexp.Regexp, path string) bool {
	for p := path; p != "." && p != "/" && p != ""; p = filepath.ToSlash(filepath.Dir(p)) {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

// ---- Repository facts ----

// appPorts reads each app's port from dapr/dapr.yaml, the source of app ids
// and ports.
func appPorts(t *testing.T, root string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "dapr", "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Apps []struct {
			AppID   string `yaml:"appID"`
			AppPort int    `yaml:"appPort"`
		} `yaml:"apps"`
	}
	if err := yaml.Unmarshal(data, &tmpl); err != nil {
		t.Fatalf("dapr/dapr.yaml: %v", err)
	}
	ports := map[string]int{}
	for _, a := range tmpl.Apps {
		ports[a.AppID] = a.AppPort
	}
	return ports
}

// goModVersion returns the go directive of the root go.mod.
func goModVersion(t *testing.T, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go\s+(\S+)\s*$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}

// TestParserSelfCheck makes sure the helpers above can fail.
func TestParserSelfCheck(t *testing.T) {
	words, err := shellWords(`CGO_ENABLED=0 GOOS=$TARGETOS go build -ldflags="-s -w" -o /out/app ./apps/x`, map[string]string{"TARGETOS": "linux"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CGO_ENABLED=0", "GOOS=linux", "go", "build", "-ldflags=-s -w", "-o", "/out/app", "./apps/x"}
	if !slices.Equal(words, want) {
		t.Errorf("shellWords = %q, want %q", words, want)
	}
	if _, err := shellWords(`go build ./x && rm -rf /`, nil); err == nil {
		t.Error("shellWords accepted a compound command")
	}
	if _, err := shellWords(`GOOS=$NOPE go build`, map[string]string{}); err == nil {
		t.Error("shellWords expanded an unknown variable")
	}
	d := &dockerignore{}
	for _, p := range []string{".git", "**/*.test", "apps", "!apps/keep"} {
		r := ignoreRule{}
		if q, ok := strings.CutPrefix(p, "!"); ok {
			r.negate, p = true, q
		}
		r.re = regexp.MustCompile("^" + globToRegexp(p) + "$")
		d.rules = append(d.rules, r)
	}
	for path, want := range map[string]bool{
		".git/HEAD": true, "a/b/c.test": true, "c.test": true, "apps/x/main.go": true,
		"apps/keep/main.go": false, "internal/x.go": false, ".gitignore": false,
	} {
		if got := d.excludes(path); got != want {
			t.Errorf("excludes(%q) = %v, want %v", path, got, want)
		}
	}
	for tag, ok := range map[string]bool{"1.26-bookworm": true, "1.26.4-bookworm": true, "1.26.9": true, "1.25-bookworm": false, "1.26.3-bookworm": false, "latest": false} {
		if err := checkGoTag(tag, "1.26.4"); (err == nil) != ok {
			t.Errorf("checkGoTag(%q, 1.26.4) = %v", tag, err)
		}
	}
}
