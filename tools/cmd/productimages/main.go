// Command productimages draws one picture per product of the catalog seed
// (apps/catalog/seed/products.json) as a small flat SVG into
// apps/storefront/static/images/products/<sku in lower case>.svg, which the
// storefront serves at /images/products/<file> and the seed's image_url
// points at. The pictogram depends on the product's category (a kettle or a
// pan for kitchen, a tent for outdoor, headphones for audio ...), the
// colours on its SKU: a palette per category with a per-product variation.
// The images are our own work, with nothing to attribute.
//
// The output is the same on every run; files of the folder it no longer
// writes are deleted, and the test beside this file fails when the SVGs in
// git are not what this writes.
//
//	go run -C tools ./cmd/productimages        (go tool task productimages)
//	go run -C tools ./cmd/productimages -dir /tmp/out
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// regenerate is the command that brings the SVGs in git up to date.
const regenerate = "go tool task productimages (go run -C tools ./cmd/productimages)"

// URLPrefix is where the storefront serves the images: the seed's
// image_url of a product is URLPrefix + fileName(sku).
const URLPrefix = "/images/products/"

// Paths of the seed and the output folder below the checkout's root.
var (
	seedPath = filepath.Join("apps", "catalog", "seed", "products.json")
	outPath  = filepath.Join("apps", "storefront", "static", "images", "products")
)

func main() {
	seed := flag.String("seed", "", "the catalog seed to read (default: "+filepath.ToSlash(seedPath)+" of the checkout)")
	dir := flag.String("dir", "", "where to write the SVGs (default: "+filepath.ToSlash(outPath)+" of the checkout)")
	flag.Parse()
	if err := run(*seed, *dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "productimages:", err)
		os.Exit(1)
	}
}

func run(seed, dir string, log io.Writer) error {
	if seed == "" || dir == "" {
		root, err := repoRoot()
		if err != nil {
			return err
		}
		if seed == "" {
			seed = filepath.Join(root, seedPath)
		}
		if dir == "" {
			dir = filepath.Join(root, outPath)
		}
	}
	products, err := readSeed(seed)
	if err != nil {
		return err
	}
	files, err := render(products)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	// The picture of a product no longer in the seed must not linger.
	stale, err := staleFiles(dir, files)
	if err != nil {
		return err
	}
	for _, name := range stale {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "productimages: wrote %d files to %s, removed %d stale\n", len(files), dir, len(stale))
	return nil
}

// product is the part of a seed product the pictures use.
type product struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Category string `json:"category"`
	ImageURL string `json:"image_url"`
}

// skuPattern is the catalog's rule for a SKU (the "code" validation): it
// also keeps the file name inside the output folder.
var skuPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$`)

func readSeed(path string) ([]product, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Products []product `json:"products"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Products) == 0 {
		return nil, fmt.Errorf("%s: no products", path)
	}
	seen := map[string]string{}
	for _, p := range f.Products {
		if !skuPattern.MatchString(p.SKU) || len(p.SKU) > 64 {
			return nil, fmt.Errorf("%s: sku %q is not a valid SKU", path, p.SKU)
		}
		name := fileName(p.SKU)
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s: skus %s and %s both make %s", path, other, p.SKU, name)
		}
		seen[name] = p.SKU
	}
	return f.Products, nil
}

// fileName is the picture's file for a SKU.
func fileName(sku string) string { return strings.ToLower(sku) + ".svg" }

// file is one output file.
type file struct {
	name string
	data []byte
}

// render returns every file the command writes, in seed order.
func render(products []product) ([]file, error) {
	out := make([]file, 0, len(products))
	for _, p := range products {
		data, err := drawProduct(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.SKU, err)
		}
		out = append(out, file{fileName(p.SKU), data})
	}
	return out, nil
}

// staleFiles are the .svg files of dir that render does not write.
func staleFiles(dir string, files []file) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".svg") {
			continue
		}
		if !slices.ContainsFunc(files, func(f file) bool { return f.name == name }) {
			stale = append(stale, name)
		}
	}
	return stale, nil
}

// repoRoot is the checkout's root: the first folder up from the working
// directory that holds tools/go.mod and the catalog seed.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isFile(filepath.Join(dir, "tools", "go.mod")) && isFile(filepath.Join(dir, seedPath)) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside a ShopMesh checkout (no tools/go.mod and " + filepath.ToSlash(seedPath) + " above the working directory); pass -seed and -dir")
		}
		dir = parent
	}
}

func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }
