package stack_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/shopmesh/shopmesh/internal/contracts"
	"github.com/shopmesh/shopmesh/local/stack"
)

// A test that needs one more catalog with its own sidecar, beside the running
// stack, on free ports and with another resources folder.
func ExampleStartApp() {
	ctx := context.Background()
	root, err := stack.FindRoot("") // from the test's package folder
	if err != nil {
		panic(err)
	}
	layout, _ := stack.NewLayout(root)
	tmpl, err := stack.LoadTemplate(filepath.Join(root, stack.TemplatePath))
	if err != nil {
		panic(err)
	}
	spec, _ := tmpl.App(contracts.AppCatalog)
	spec.Name = "catalog-extra" // its own log, pid and token files
	if spec.Ports, err = stack.FreePorts(); err != nil {
		panic(err)
	}
	spec.ResourcesPaths = []string{filepath.Join(root, "components", "local"), filepath.Join(root, "dapr", "resources")}

	h, err := stack.StartApp(ctx, layout, spec)
	if err != nil {
		panic(err)
	}
	defer h.Stop(context.Background()) // or t.Cleanup
	if err := h.WaitReady(ctx, time.Minute); err != nil {
		panic(err) // the error holds the tails of both logs
	}

	// Call its sidecar with the instance's token.
	req, _ := http.NewRequest(http.MethodGet, h.DaprHTTPURL()+"/v1.0/metadata", nil)
	req.Header.Set("dapr-api-token", h.Tokens.DaprAPIToken)
	fmt.Println(req.URL.Path)
}
