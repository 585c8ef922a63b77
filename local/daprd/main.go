// Command daprd is the Dapr 1.17.5 runtime, built from the Go module proxy with
// the stable components plus the few non-stable ones ShopMesh uses.
//
// Build with -tags stablecomponents; the version comes from -ldflags on
// github.com/dapr/dapr/pkg/buildinfo.version (see local/build-daprd.sh).
package main

import (
	"github.com/dapr/components-contrib/bindings/aws/ses"
	"github.com/dapr/components-contrib/bindings/smtp"
	redislock "github.com/dapr/components-contrib/lock/redis"
	nrsqlite "github.com/dapr/components-contrib/nameresolution/sqlite"
	"github.com/dapr/components-contrib/secretstores/aws/secretmanager"
	"github.com/dapr/dapr/cmd/daprd/app"
	bindingsLoader "github.com/dapr/dapr/pkg/components/bindings"
	lockLoader "github.com/dapr/dapr/pkg/components/lock"
	nrLoader "github.com/dapr/dapr/pkg/components/nameresolution"
	secretstoresLoader "github.com/dapr/dapr/pkg/components/secretstores"

	// The stable component set registers itself under the stablecomponents tag.
	_ "github.com/dapr/dapr/cmd/daprd/components"
)

func main() {
	// Dapr 1.17 compiles these only into its allcomponents build (files
	// tagged allcomponents in cmd/daprd/components); register the ones we use
	// here, exactly as those files do. (The allcomponents build does work on
	// Go 1.26, but its binary is ~296 MB against ~180 MB for this one.)
	secretstoresLoader.DefaultRegistry.RegisterComponent(secretmanager.NewSecretManager, "aws.secretmanager")
	bindingsLoader.DefaultRegistry.RegisterOutputBinding(smtp.NewSMTP, "smtp")
	bindingsLoader.DefaultRegistry.RegisterOutputBinding(ses.NewAWSSES, "aws.ses")
	lockLoader.DefaultRegistry.RegisterComponent(redislock.NewStandaloneRedisLock, "redis")
	// Local name resolution in a file of the checkout: mDNS would also find
	// apps of other ShopMesh stacks on the machine or the LAN.
	nrLoader.DefaultRegistry.RegisterComponent(nrsqlite.NewResolver, "sqlite")
	app.Run()
}
