package daprx

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
	"github.com/shopmesh/shopmesh/internal/platform/logging"
)

// Invoker calls other apps through the sidecar's HTTP service invocation
// API, which keeps status codes, headers and query strings intact: the
// gateway passes services' answers (problem+json included) to clients.
type Invoker struct{ sidecar *Sidecar }

// NewInvoker returns an Invoker over this app's sidecar.
func NewInvoker(s *Sidecar) *Invoker { return &Invoker{sidecar: s} }

// Call sends method path?query to app and returns the raw response; the
// caller closes its body. The request id and the trace context (a client
// span of this call, child of ctx's) travel along.
func (i *Invoker) Call(ctx context.Context, app, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error) {
	u := i.sidecar.base + "/v1.0/invoke/" + url.PathEscape(app) + "/method/" + strings.TrimPrefix(path, "/")
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s %s: %w", app, path, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if i.sidecar.token != "" {
		req.Header.Set(apiTokenHeader, i.sidecar.token)
	}
	if id := logging.RequestID(ctx); id != "" {
		req.Header.Set(httpserver.RequestIDHeader, id)
	}
	resp, err := i.sidecar.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s %s: %w", app, path, err)
	}
	return resp, nil
}

// invokeSpanName names a client span by the app called ("invoke orders"):
// the method path holds ids, too many names for a trace backend to index.
func invokeSpanName(_ string, r *http.Request) string {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1.0/invoke/")
	if !ok {
		return r.Method + " sidecar"
	}
	app, _, _ := strings.Cut(rest, "/")
	return r.Method + " invoke " + app
}
