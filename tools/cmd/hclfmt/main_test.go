package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	const formatted = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n  tags   = { a = 1 }\n}\n"
	const misaligned = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n  tags = { a = 1 }\n}\n"
	cases := []struct {
		name   string
		files  map[string]string
		write  bool
		status int
		listed string
	}{
		{name: "formatted", files: map[string]string{"main.tf": formatted, "dev.tfvars": "region = \"eu-west-1\"\n"}, status: 0},
		{name: "misaligned", files: map[string]string{"main.tf": formatted, "mod/x.tf": misaligned}, status: 3, listed: "x.tf"},
		{name: "syntax error", files: map[string]string{"main.tf": "resource \"a\" {\n"}, status: 1},
		{name: "write fixes", files: map[string]string{"main.tf": misaligned}, write: true, status: 3, listed: "main.tf"},
		{name: "downloaded modules are skipped", files: map[string]string{"main.tf": formatted, ".terraform/m/x.tf": misaligned}, status: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tc.files {
				writeFile(t, dir, name, text)
			}
			args := []string{dir}
			if tc.write {
				args = []string{"-write", dir}
			}
			var out, errOut bytes.Buffer
			if got := run(args, &out, &errOut); got != tc.status {
				t.Fatalf("status %d, want %d (stdout %q, stderr %q)", got, tc.status, out.String(), errOut.String())
			}
			if tc.listed != "" && !strings.Contains(out.String(), tc.listed) {
				t.Errorf("stdout %q does not list %s", out.String(), tc.listed)
			}
			if tc.write {
				got, _ := os.ReadFile(filepath.Join(dir, "main.tf"))
				if string(got) != formatted {
					t.Errorf("after -write:\n%s\nwant:\n%s", got, formatted)
				}
				if status := run([]string{dir}, &out, &errOut); status != 0 {
					t.Errorf("second run after -write: status %d", status)
				}
			}
		})
	}
}
