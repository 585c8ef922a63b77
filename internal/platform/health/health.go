// Package health serves /healthz (the process is alive) and /readyz (the app
// can serve: every registered Check passes, the Dapr sidecar among them).
package health

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/internal/platform/httpserver"
)

// Module serves the probes.
var Module = fx.Invoke(Register)

// Check is one readiness condition. Provide it into the "readiness" group:
//
//	fx.Provide(fx.Annotate(newCheck, fx.ResultTags(`group:"readiness"`)))
type Check struct {
	Name  string
	Check func(context.Context) error
}

// Params collects the checks the app provides.
type Params struct {
	fx.In
	Router httpserver.Router
	Checks []Check `group:"readiness"`
}

const checkTimeout = 2 * time.Second

// Register mounts the probes on the public router.
func Register(p Params) {
	p.Router.Public.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	p.Router.Public.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c, checkTimeout)
		defer cancel()
		failed := gin.H{}
		for _, ch := range p.Checks {
			if err := ch.Check(ctx); err != nil {
				failed[ch.Name] = err.Error()
			}
		}
		if len(failed) > 0 {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "failed": failed})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	})
}
