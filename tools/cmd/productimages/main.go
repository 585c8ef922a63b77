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
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/shopmesh/shopmesh/tools/generated"
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
		root, err := generated.RepoRoot(seedPath)
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
	stale, err := generated.Write(dir, ".svg", files)
	if err != nil {
		return err
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

// render returns every file the command writes, in seed order.
func render(products []product) ([]generated.File, error) {
	out := make([]generated.File, 0, len(products))
	for _, p := range products {
		data, err := drawProduct(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.SKU, err)
		}
		out = append(out, generated.File{Name: fileName(p.SKU), Data: data})
	}
	return out, nil
}
