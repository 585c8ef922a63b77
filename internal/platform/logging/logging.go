// Package logging builds the JSON slog logger every app uses. Request and
// trace ids travel in the context and are added to each record by Handler.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Module provides *slog.Logger and routes fx's own events through it.
var Module = fx.Options(
	fx.Provide(func(cfg config.App) *slog.Logger { return New(os.Stdout, cfg) }),
	fx.WithLogger(func(l *slog.Logger) fxevent.Logger {
		fl := &fxevent.SlogLogger{Logger: l}
		fl.UseLogLevel(slog.LevelDebug)
		return fl
	}),
)

// New returns a JSON logger that names the app and adds the context's ids.
func New(w io.Writer, cfg config.App) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.LogLevel})
	return slog.New(Handler{h}).With("app", cfg.ID)
}

type ctxKey struct{}

type ids struct{ requestID, traceID string }

// WithIDs returns ctx carrying the request and trace id of the current call.
func WithIDs(ctx context.Context, requestID, traceID string) context.Context {
	return context.WithValue(ctx, ctxKey{}, ids{requestID, traceID})
}

// RequestID returns the request id carried by ctx, if any.
func RequestID(ctx context.Context) string {
	v, _ := ctx.Value(ctxKey{}).(ids)
	return v.requestID
}

// TraceID returns the trace id carried by ctx, if any.
func TraceID(ctx context.Context) string {
	v, _ := ctx.Value(ctxKey{}).(ids)
	return v.traceID
}

// Handler adds request_id and trace_id from the record's context.
type Handler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if v, ok := ctx.Value(ctxKey{}).(ids); ok {
		if v.requestID != "" {
			r.AddAttrs(slog.String("request_id", v.requestID))
		}
		if v.traceID != "" {
			r.AddAttrs(slog.String("trace_id", v.traceID))
		}
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h Handler) WithGroup(name string) slog.Handler { return Handler{h.Handler.WithGroup(name)} }
