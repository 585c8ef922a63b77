// Package openapi holds the gateway's OpenAPI 3.1 document and serves it as
// JSON at /openapi.json. The document is written by hand, in YAML, next to
// the code; a test keeps its paths equal to the routes the gateway serves.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
	"gopkg.in/yaml.v3"

	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
)

// Path is where the document is served.
const Path = "/openapi.json"

// YAML is the document as written.
//
//go:embed openapi.yaml
var YAML []byte

// Module serves the document on the public router.
var Module = fx.Invoke(Register)

// Register serves the document at Path. It converts the YAML once, so a
// document that does not convert stops the app at start-up.
func Register(r httpserver.Router) error {
	doc, err := JSON()
	if err != nil {
		return err
	}
	r.Public.GET(Path, func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", doc)
	})
	return nil
}

// JSON returns the document as JSON.
func JSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(YAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	doc, err := stringKeys(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml to JSON: %w", err)
	}
	return b, nil
}

// stringKeys makes every mapping JSON-encodable: YAML allows non-string
// keys (an unquoted 200), JSON does not.
func stringKeys(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			conv, err := stringKeys(e)
			if err != nil {
				return nil, err
			}
			t[k] = conv
		}
		return t, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			conv, err := stringKeys(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = conv
		}
		return out, nil
	case []any:
		for i, e := range t {
			conv, err := stringKeys(e)
			if err != nil {
				return nil, err
			}
			t[i] = conv
		}
		return t, nil
	default:
		return v, nil
	}
}
