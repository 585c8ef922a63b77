package httpserver

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/internal/platform/config"
	"github.com/shopmesh/shopmesh/internal/platform/metrics"
	"github.com/shopmesh/shopmesh/internal/platform/problem"
	"github.com/shopmesh/shopmesh/internal/platform/telemetry"
)

type input struct {
	Name  string  `json:"name" validate:"required,max=5"`
	Count *int    `json:"count" validate:"required,gte=1,lte=100"`
	Kind  string  `json:"kind" validate:"omitempty,oneof=a b"`
	Code  string  `json:"code" validate:"omitempty,code"`
	Inner *nested `json:"inner" validate:"omitempty"`
}

type nested struct {
	Currency string `json:"currency" validate:"required,iso4217"`
}

func newTestEngine(t *testing.T, token string) (*gin.Engine, Router) {
	t.Helper()
	cfg := config.App{ID: "test", MaxBodyBytes: 64, AppAPIToken: token}
	e := NewEngine(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.NewHTTP(metrics.NewRegistry()), telemetry.NoExport("test"))
	r := NewRouter(cfg, e)
	r.Public.POST("/things", func(c *gin.Context) {
		var in input
		if !BindJSON(c, &in) {
			return
		}
		c.JSON(http.StatusCreated, in)
	})
	r.Public.GET("/panic", func(*gin.Context) { panic("boom") })
	r.Sidecar.GET("/internal", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	return e, r
}

func do(e http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) problem.Problem {
	t.Helper()
	assert.Equal(t, problem.ContentType, w.Header().Get("Content-Type"))
	var p problem.Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), w.Body.String())
	assert.Equal(t, w.Code, p.Status)
	assert.NotEmpty(t, p.Type)
	assert.NotEmpty(t, p.Title)
	return p
}

func TestBindJSONRejectsBadInput(t *testing.T) {
	e, _ := newTestEngine(t, "")
	cases := []struct {
		name, body, ctype string
		status            int
		typ               string
		field             string
	}{
		{"malformed", `{"name":`, "", 400, problem.TypeMalformed, ""},
		{"empty", ``, "", 400, problem.TypeMalformed, ""},
		{"two values", `{"name":"a","count":1} {}`, "", 400, problem.TypeMalformed, ""},
		{"wrong type", `{"name":"a","count":"many"}`, "", 400, problem.TypeValidation, "count"},
		{"unknown field", `{"name":"a","count":1,"admin":true}`, "", 400, problem.TypeValidation, "admin"},
		{"missing field", `{"name":"a"}`, "", 400, problem.TypeValidation, "count"},
		{"out of range", `{"name":"a","count":1000}`, "", 400, problem.TypeValidation, "count"},
		{"bad enum", `{"name":"a","count":1,"kind":"z"}`, "", 400, problem.TypeValidation, "kind"},
		{"bad code", `{"name":"a","count":1,"code":"a b"}`, "", 400, problem.TypeValidation, "code"},
		{"nested", `{"name":"a","count":1,"inner":{"currency":"XXY"}}`, "", 400, problem.TypeValidation, "inner.currency"},
		{"too large", `{"name":"` + strings.Repeat("x", 100) + `","count":1}`, "", 413, problem.TypeTooLarge, ""},
		{"not json", `name=a`, "application/x-www-form-urlencoded", 415, problem.TypeUnsupportedType, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctype := tc.ctype
			if ctype == "" {
				ctype = "application/json"
			}
			w := do(e, http.MethodPost, "/things", tc.body, "Content-Type", ctype)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			p := decodeProblem(t, w)
			assert.Equal(t, tc.typ, p.Type)
			if tc.field != "" {
				require.NotEmpty(t, p.Errors)
				assert.Equal(t, tc.field, p.Errors[0].Field)
				assert.NotEmpty(t, p.Errors[0].Detail)
			}
		})
	}
}

func TestBindJSONAccepts(t *testing.T) {
	e, _ := newTestEngine(t, "")
	w := do(e, http.MethodPost, "/things", `{"name":"a","count":3,"inner":{"currency":"EUR"}}`)
	assert.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	assert.NotEmpty(t, w.Header().Get(RequestIDHeader))
}

func TestPanicsBecomeProblems(t *testing.T) {
	e, _ := newTestEngine(t, "")
	w := do(e, http.MethodGet, "/panic", "")
	require.Equal(t, http.StatusInternalServerError, w.Code)
	p := decodeProblem(t, w)
	assert.NotContains(t, p.Detail, "boom")
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e, _ := newTestEngine(t, "")
	assert.Equal(t, problem.TypeNotFound, decodeProblem(t, do(e, http.MethodGet, "/nope", "")).Type)
	w := do(e, http.MethodDelete, "/things", "")
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Equal(t, problem.TypeMethod, decodeProblem(t, w).Type)
}

func TestSidecarRoutesNeedTheAppToken(t *testing.T) {
	e, _ := newTestEngine(t, "s3cret")
	assert.Equal(t, http.StatusUnauthorized, do(e, http.MethodGet, "/internal", "").Code)
	assert.Equal(t, http.StatusUnauthorized, do(e, http.MethodGet, "/internal", "", "dapr-api-token", "wrong").Code)
	assert.Equal(t, http.StatusNoContent, do(e, http.MethodGet, "/internal", "", "dapr-api-token", "s3cret").Code)
	// Public routes do not need it.
	assert.Equal(t, http.StatusCreated, do(e, http.MethodPost, "/things", `{"name":"a","count":1}`).Code)

	open, _ := newTestEngine(t, "")
	assert.Equal(t, http.StatusNoContent, do(open, http.MethodGet, "/internal", "").Code)
}

func TestRequestIDsAreKeptWhenWellFormed(t *testing.T) {
	e, _ := newTestEngine(t, "")
	w := do(e, http.MethodPost, "/things", `{"name":"a","count":1}`, RequestIDHeader, "abc-123")
	assert.Equal(t, "abc-123", w.Header().Get(RequestIDHeader))
	w = do(e, http.MethodPost, "/things", `{"name":"a","count":1}`, RequestIDHeader, "bad id\n")
	assert.NotEqual(t, "bad id\n", w.Header().Get(RequestIDHeader))
}

func TestMetricsCountRoutes(t *testing.T) {
	e, _ := newTestEngine(t, "")
	do(e, http.MethodPost, "/things", `{"name":"a","count":1}`)
	w := do(e, http.MethodGet, "/metrics", "")
	require.Equal(t, http.StatusOK, w.Code)
	body := w.Body.String()
	assert.Contains(t, body, `http_requests_total{code="201",method="POST",route="/things"} 1`)
	assert.Contains(t, body, `http_request_duration_seconds_bucket{method="POST",route="/things"`)
	assert.Contains(t, body, "go_goroutines")
}

func TestMalformedQueryIsRejected(t *testing.T) {
	e, _ := newTestEngine(t, "")
	w := do(e, http.MethodPost, "/things?x=%zz", `{"name":"a","count":1}`)
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, problem.TypeMalformed, decodeProblem(t, w).Type)
}
