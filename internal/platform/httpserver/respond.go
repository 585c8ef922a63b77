package httpserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"

	"github.com/shopmesh/shopmesh/internal/platform/problem"
)

// DefaultRetryAfter is the Retry-After, in seconds, of a 503 whose handler
// named none: a service that cannot complete a request now says when a
// client may try again, so clients back off instead of hammering a store
// that is coming back.
const DefaultRetryAfter = "1"

// Abort ends the request with p as application/problem+json; a 503 carries
// Retry-After (DefaultRetryAfter unless the handler set one).
func Abort(c *gin.Context, p *problem.Problem) {
	if p.Instance == "" {
		p.Instance = c.Request.URL.Path
	}
	if p.Status == http.StatusServiceUnavailable && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", DefaultRetryAfter)
	}
	body, err := json.Marshal(p)
	if err != nil {
		body = []byte(`{"type":"` + problem.TypeInternal + `","title":"Internal Server Error","status":500}`)
	}
	c.Abort()
	c.Data(p.Status, problem.ContentType, body)
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$`)

// isHTTPURLOrPath reports whether s is an absolute http or https URL with
// a host, or a path on the same site: one '/' first (not "//", which is
// another host), no backslash (browsers read it as '/'). Neither may hold
// spaces or control characters. This is the "http_url_or_path" validation,
// for links such as a product's image_url ("/images/products/kit-0001.svg").
func isHTTPURLOrPath(s string) bool {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError
	}) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	if s[0] == '/' {
		return len(s) == 1 || s[1] != '/'
	}
	scheme := strings.ToLower(u.Scheme)
	return (scheme == "http" || scheme == "https") && u.Host != "" && u.Opaque == ""
}

// validate is safe for concurrent use and caches struct metadata, so one
// instance serves the whole process.
var validate = sync.OnceValue(func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// code: an identifier such as a SKU or a slug; letters, digits, and
	// '-', '_' or '.' inside.
	_ = v.RegisterValidation("code", func(fl validator.FieldLevel) bool {
		return codePattern.MatchString(fl.Field().String())
	})
	_ = v.RegisterValidation("http_url_or_path", func(fl validator.FieldLevel) bool {
		return isHTTPURLOrPath(fl.Field().String())
	})
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return v
})

// Validate checks v's `validate` tags and returns a validation problem naming
// each bad field by its JSON path, or nil.
func Validate(v any) *problem.Problem {
	err := validate().Struct(v)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return problem.Malformed(err.Error())
	}
	fields := make([]problem.FieldError, 0, len(verrs))
	for _, fe := range verrs {
		fields = append(fields, problem.FieldError{Field: fieldPath(fe.Namespace()), Detail: describe(fe)})
	}
	return problem.Validation(fields...)
}

// fieldPath drops the struct name validator puts first ("Product.price.amount").
func fieldPath(ns string) string {
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return ns
}

func describe(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "min":
		if fe.Kind() == reflect.String {
			return "must have at least " + fe.Param() + " characters"
		}
		return "must be at least " + fe.Param()
	case "max":
		if fe.Kind() == reflect.String {
			return "must have at most " + fe.Param() + " characters"
		}
		return "must be at most " + fe.Param()
	case "gte":
		return "must be at least " + fe.Param()
	case "lte":
		return "must be at most " + fe.Param()
	case "oneof":
		return "must be one of: " + fe.Param()
	case "iso4217":
		return "must be an ISO 4217 currency code such as USD"
	case "http_url", "url":
		return "must be an http or https URL"
	case "http_url_or_path":
		return "must be an http or https URL, or a path on this site starting with a single '/'"
	case "email":
		return "must be an e-mail address"
	case "code":
		return "may hold only letters, digits, '-', '_' and '.', and must start and end with a letter or digit"
	default:
		return fmt.Sprintf("fails the %q rule", fe.Tag())
	}
}

// BindJSON decodes the body into v strictly (one JSON object, no unknown
// fields, right types) and validates it. On failure it writes the problem and
// returns false; the handler just returns.
func BindJSON(c *gin.Context, v any) bool {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			Abort(c, problem.New(problem.TypeUnsupportedType, http.StatusUnsupportedMediaType, "the body must be application/json"))
			return false
		}
	}
	if p := decodeJSON(c.Request.Body, v); p != nil {
		Abort(c, p)
		return false
	}
	if p := Validate(v); p != nil {
		Abort(c, p)
		return false
	}
	return true
}

func decodeJSON(r io.Reader, v any) *problem.Problem {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return problem.Malformed("the body must hold exactly one JSON value")
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return problem.Malformed("the body must hold exactly one JSON value")
		}
		return nil
	}
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxErr):
		return problem.New(problem.TypeTooLarge, http.StatusRequestEntityTooLarge, "the request body exceeds the size limit")
	case errors.Is(err, io.EOF):
		return problem.Malformed("the request body is empty")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.Malformed("the body is not valid JSON")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(body)"
		}
		return problem.Validation(problem.FieldError{Field: field, Detail: "must be of type " + jsonType(typeErr.Type)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.Validation(problem.FieldError{Field: name, Detail: "is not a known field"})
	default:
		return problem.Malformed("the body could not be decoded: " + err.Error())
	}
}

func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}
