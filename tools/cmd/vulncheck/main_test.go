package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCalledFails(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"-db", "db", "-name", "app", "-from", filepath.Join("testdata", "findings.json")}, &out, &errOut)
	if code != 3 {
		t.Errorf("exit %d, want 3 (a vulnerable symbol is called)\n%s%s", code, out.String(), errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		"vulncheck app (govulncheck v1.9.0, source mode, symbol level, go1.26.8, database of 2099-02-03): 1 called (FAIL), 1 imported but not called, 1 in required modules not imported",
		"  FAIL     GO-2099-0001 example.com/fakevuln@v1.3.0 (example.com/fakevuln/parse), fixed in v1.4.1: Unbounded recursion in example.com/fakevuln/parse",
		// The shorter of the two call paths, from our code to the symbol.
		"           2 call path(s); shortest: main.go:15:13 app.run → parse.Parse",
		"  imported GO-2099-0005 example.com/fakevuln@v1.3.0 (example.com/fakevuln/other), fixed in v1.4.1: Imported, never called",
		"  required GO-2099-0006 example.com/fakevuln@v1.3.0, no fixed version: Only required",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestWarnOnly(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"-db", "db", "-name", "server", "-warn-only", "-max", "1", "-from", filepath.Join("testdata", "findings.json")}, &out, &errOut)
	if code != 0 {
		t.Errorf("exit %d, want 0 with -warn-only", code)
	}
	got := out.String()
	if !strings.Contains(got, "1 called (warning only: not our code)") || !strings.Contains(got, "  CALLED   GO-2099-0001") || !strings.Contains(got, "  ... and 2 more\n") {
		t.Errorf("output:\n%s", got)
	}
}

func TestCallPathNames(t *testing.T) {
	trace := []frame{
		{Package: "crypto/x509", Function: "Verify", Receiver: "*Certificate"},
		{Package: "example.com/app/x", Function: "Get", Receiver: "Client", Position: &position{Filename: "x/x.go", Line: 3, Column: 4}},
	}
	if got, want := callPath(trace), "x/x.go:3:4 x.Client.Get → x509.(*Certificate).Verify"; got != want {
		t.Errorf("callPath = %q, want %q", got, want)
	}
}

// TestRunsGovulncheck runs a stand-in govulncheck that prints the fixture,
// to check the arguments vulncheck passes and the JSON it keeps.
func TestRunsGovulncheck(t *testing.T) {
	tmp := t.TempDir()
	fixture, err := filepath.Abs(filepath.Join("testdata", "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(tmp, "govulncheck")
	script := "#!/bin/sh\necho \"$@\" > " + filepath.Join(tmp, "args") + "\ncat " + fixture + "\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(tmp, "out", "scan.json")
	var out, errOut bytes.Buffer
	code := run([]string{"-govulncheck", fake, "-db", tmp, "-name", "m", "-json", keep, "-scan", "package", "-C", "mod", "./...", "tool"}, &out, &errOut)
	if code != 3 {
		t.Errorf("exit %d, want 3\n%s", code, errOut.String())
	}
	args, _ := os.ReadFile(filepath.Join(tmp, "args"))
	if want := "-db file://" + filepath.ToSlash(tmp) + " -format json -scan package -C mod ./... tool\n"; string(args) != want {
		t.Errorf("govulncheck args = %q, want %q", args, want)
	}
	kept, _ := os.ReadFile(keep)
	want, _ := os.ReadFile(fixture)
	if !bytes.Equal(kept, want) {
		t.Error("the JSON kept differs from govulncheck's output")
	}
}

func TestNotGovulncheckOutput(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(p, []byte(`{"finding":{"osv":"GO-1","trace":[{"module":"m"}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"-db", "db", "-from", p}, &out, &errOut); code != 1 {
		t.Errorf("exit %d, want 1 for a stream without a config message", code)
	}
}
