// Command hclfmt checks (or fixes) the formatting of Terraform/OpenTofu files
// the way `terraform fmt -check -recursive` does, without Terraform (its
// licence keeps it out of this project): every *.tf and *.tfvars file under
// the given folders must parse as HCL native syntax and be unchanged by
// hclwrite's formatter, which is the formatter `terraform fmt` and `tofu fmt`
// apply. The two rewrites those tools add on top (unwrapping "${x}" and
// unquoting legacy type names) are lint findings of tflint's
// terraform_deprecated_interpolation rule and parse errors, respectively.
//
//	hclfmt [-write] DIR_OR_FILE...
//
// Exit status: 0 formatted, 1 syntax errors or I/O failures, 3 some file is
// not formatted (with -write: it was rewritten).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("hclfmt", flag.ContinueOnError)
	fset.SetOutput(stderr)
	write := fset.Bool("write", false, "rewrite unformatted files in place")
	if err := fset.Parse(args); err != nil {
		return 1
	}
	if fset.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: hclfmt [-write] DIR_OR_FILE...")
		return 1
	}
	files, err := collect(fset.Args())
	if err != nil {
		fmt.Fprintln(stderr, "hclfmt:", err)
		return 1
	}
	status := 0
	unformatted := 0
	for _, f := range files {
		changed, err := check(f, *write)
		switch {
		case err != nil:
			fmt.Fprintln(stderr, err)
			status = 1
		case changed:
			unformatted++
			fmt.Fprintln(stdout, f)
		}
	}
	if status == 0 && unformatted > 0 {
		status = 3
	}
	verb := "need formatting"
	if *write {
		verb = "reformatted"
	}
	fmt.Fprintf(stderr, "hclfmt: %d files checked, %d %s\n", len(files), unformatted, verb)
	return status
}

// collect lists the *.tf and *.tfvars files of the arguments, skipping
// .terraform folders (downloaded modules and providers).
func collect(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == ".terraform" {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, ".tf") || strings.HasSuffix(path, ".tfvars") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(files) == 0 {
		return nil, errors.New("no .tf or .tfvars files found")
	}
	sort.Strings(files)
	return files, nil
}

// check reports whether the file's formatting differs from hclwrite's, and
// rewrites it when write is set. Syntax errors are returned: the formatter
// would leave such a file alone and hide them.
func check(path string, write bool) (bool, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	if _, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
		return false, fmt.Errorf("%s: %s", path, diags.Error())
	}
	out := hclwrite.Format(src)
	if bytes.Equal(src, out) {
		return false, nil
	}
	if write {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return true, err
		}
	}
	return true, nil
}
