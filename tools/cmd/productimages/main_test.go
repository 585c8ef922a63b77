package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shopmesh/shopmesh/tools/generated"
)

// inCheckout is a path of the checkout (outPath or seedPath) as a path
// through this package's folder on purpose, not cleaned: go test caches a
// passing result and reruns it when a file the test read changed, but only
// for files inside the module (tools/), judged by the path as the test
// opened it. Through "tools/cmd/productimages/../../../apps" a hand edit of
// an SVG or of the seed reruns the test instead of replaying an old pass.
func inCheckout(t *testing.T, rel string) string {
	t.Helper()
	pkg, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	p := pkg + "/../../../" + filepath.ToSlash(rel)
	root, err := generated.RepoRoot(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, rel)
	st, err := os.Stat(want)
	if err != nil {
		t.Fatalf("no %s: run %s", want, regenerate)
	}
	if got, err := os.Stat(p); err != nil || !os.SameFile(got, st) {
		t.Fatalf("the test runs in %s, not in tools/cmd/productimages of the checkout %s", pkg, root)
	}
	return p
}

func seedProducts(t *testing.T) []product {
	t.Helper()
	products, err := readSeed(inCheckout(t, seedPath))
	if err != nil {
		t.Fatal(err)
	}
	return products
}

// The SVGs in git are what the generator writes now for the seed in git:
// a product added, renamed or removed without regenerating, a change to the
// drawing code, a hand edit or a stray file fails here.
func TestCommittedImagesAreUpToDate(t *testing.T) {
	files, err := render(seedProducts(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := inCheckout(t, outPath)
	problems, err := generated.Check(dir, ".svg", files, regenerate)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// Every seed product's image_url is its picture's path on the storefront.
func TestSeedPointsAtTheImages(t *testing.T) {
	for _, p := range seedProducts(t) {
		if want := URLPrefix + fileName(p.SKU); p.ImageURL != want {
			t.Errorf("%s: image_url %q, want %q (in %s)", p.SKU, p.ImageURL, want, filepath.ToSlash(seedPath))
		}
	}
}

// run writes exactly what render returns, and deletes the .svg files it no
// longer writes, and nothing else.
func TestRunWritesAndPrunes(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"gone-0001.svg": "<svg/>", "README.md": "kept"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seed := inCheckout(t, seedPath)
	if err := run(seed, dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	files, err := render(seedProducts(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"README.md"}
	for _, f := range files {
		want = append(want, f.Name)
		got, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s: not written as rendered (%v)", f.Name, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files: %v, want %v", got, want)
	}

	// A second run changes nothing.
	before := map[string][]byte{}
	for _, f := range files {
		before[f.Name], _ = os.ReadFile(filepath.Join(dir, f.Name))
	}
	if err := run(seed, dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	for name, data := range before {
		if again, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(again, data) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// allowed are the SVG elements a picture may hold: shapes only, no text,
// no images, no scripts, no foreign content.
var allowed = []string{"svg", "title", "g", "rect", "circle", "ellipse", "path"}

// Every picture is a small, self-contained SVG: 800×800, the product's name
// as its title, shapes only, no reference to anything outside it.
func TestImagesAreSmallSelfContainedSVG(t *testing.T) {
	products := seedProducts(t)
	// A name that needs escaping, and a category with no pictogram.
	products = append(products, product{SKU: "X-1", Name: `Tom & Jerry's <"Best"> Mug`, Category: "garden"})
	files, err := render(products)
	if err != nil {
		t.Fatal(err)
	}
	again, err := render(products)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for i, f := range files {
		p := products[i]
		if !bytes.Equal(f.Data, again[i].Data) {
			t.Errorf("%s: two renders differ", f.Name)
		}
		if other, dup := seen[string(f.Data)]; dup {
			t.Errorf("%s and %s are the same picture", f.Name, other)
		}
		seen[string(f.Data)] = f.Name
		if len(f.Data) >= 4096 {
			t.Errorf("%s: %d bytes, want under 4 KB", f.Name, len(f.Data))
		}
		for _, bad := range []string{"data:", "url(", "href", "javascript", "<!", "<?", "@import", "font"} {
			if bytes.Contains(bytes.ToLower(f.Data), []byte(bad)) {
				t.Errorf("%s contains %q", f.Name, bad)
			}
		}
		checkSVG(t, f.Name, f.Data, p.Name)
	}
}

func checkSVG(t *testing.T, name string, data []byte, title string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var (
		depth     int
		gotTitle  strings.Builder
		inTitle   bool
		elements  int
		sawTitle  bool
		rootFound bool
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("%s: not well-formed XML: %v", name, err)
			return
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			elements++
			if tk.Name.Space != "http://www.w3.org/2000/svg" {
				t.Errorf("%s: element %s outside the SVG namespace", name, tk.Name.Local)
			}
			if !slices.Contains(allowed, tk.Name.Local) {
				t.Errorf("%s: element <%s>", name, tk.Name.Local)
			}
			for _, a := range tk.Attr {
				if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") || a.Name.Local == "style" {
					t.Errorf("%s: attribute %s on <%s>", name, a.Name.Local, tk.Name.Local)
				}
			}
			if depth == 0 {
				rootFound = tk.Name.Local == "svg"
				if attr(tk, "viewBox") != "0 0 800 800" || attr(tk, "width") != "800" || attr(tk, "height") != "800" {
					t.Errorf("%s: root %v, want an 800×800 svg", name, tk.Attr)
				}
			}
			if depth == 1 && elements == 2 && tk.Name.Local == "title" {
				sawTitle, inTitle = true, true
			}
			depth++
		case xml.EndElement:
			depth--
			inTitle = false
		case xml.CharData:
			if inTitle {
				gotTitle.Write(tk)
			}
		}
	}
	if !rootFound {
		t.Errorf("%s: the root is no <svg>", name)
	}
	if !sawTitle || gotTitle.String() != title {
		t.Errorf("%s: title %q (first child: %t), want %q", name, gotTitle.String(), sawTitle, title)
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// The seed's SKUs become file names: one that could leave the folder, or
// two that make the same file, stop the generator.
func TestReadSeedRejectsBadSKUs(t *testing.T) {
	for name, products := range map[string]string{
		"path":      `[{"sku":"../x","name":"n","category":"books"}]`,
		"slash":     `[{"sku":"a/b","name":"n","category":"books"}]`,
		"empty":     `[{"sku":"","name":"n","category":"books"}]`,
		"same file": `[{"sku":"AB-1","name":"n","category":"books"},{"sku":"ab-1","name":"m","category":"books"}]`,
		"none":      `[]`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "products.json")
			if err := os.WriteFile(path, []byte(`{"products":`+products+`}`), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := readSeed(path); err == nil {
				t.Error("no error")
			}
		})
	}
}

// Every category of the seed has a pictogram of its own (not the parcel
// of an unknown category).
func TestEverySeedCategoryHasAPictogram(t *testing.T) {
	for _, p := range seedProducts(t) {
		if _, ok := categories[p.Category]; !ok {
			t.Errorf("%s: category %q has no pictogram: add it to categories in svg.go and run %s", p.SKU, p.Category, regenerate)
		}
	}
}

func TestHSL(t *testing.T) {
	for _, tc := range []struct {
		h, s, l int
		want    string
	}{
		{0, 100, 50, "#ff0000"}, {120, 100, 50, "#00ff00"}, {240, 100, 50, "#0000ff"},
		{0, 0, 100, "#ffffff"}, {0, 0, 0, "#000000"}, {-120, 100, 50, "#0000ff"}, {420, 100, 50, "#ffff00"},
		{210, 50, 40, "#336699"},
	} {
		if got := hsl(tc.h, tc.s, tc.l); got != tc.want {
			t.Errorf("hsl(%d, %d, %d) = %s, want %s", tc.h, tc.s, tc.l, got, tc.want)
		}
	}
}
