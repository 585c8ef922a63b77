// Command exportassets writes the storefront's static files as a CDN serves
// them: static/<name>.<hash>.<ext> (CSS, JS, icons) and images/products/*,
// each at its URL path below -out, the object keys of the assets bucket
// (`go tool task deploy:assets` uploads them). The storefront serves the
// same files itself, so pages name the same hashed files either way.
//
//	go run ./apps/storefront/exportassets -out .local/deploy/assets
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/shopmesh/shopmesh/apps/storefront/static"
)

func main() {
	out := flag.String("out", "", "folder to write into (created)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: exportassets -out DIR")
		os.Exit(2)
	}
	files, err := static.Export(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "exportassets:", err)
		os.Exit(1)
	}
	for _, f := range files {
		fmt.Println(f)
	}
}
