package stack_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/shopmesh/shopmesh/local/stack"
)

func TestInfraFollowsTheComponentTypes(t *testing.T) {
	root := t.TempDir()
	write := func(profile, name, typ string) {
		dir := filepath.Join(root, "components", profile)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		y := "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: " + name + "\nspec:\n  type: " + typ + "\n  version: v1\n"
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("local", "orders-store", "state.postgresql")
	write("local", "cart-store", "state.redis")
	write("local", "pubsub", "pubsub.redis")
	write("local", "secretstore", "secretstores.local.file")
	write("emu", "inventory-store", "state.aws.dynamodb")
	write("emu", "pubsub", "pubsub.kafka")
	write("odd", "blob", "bindings.aws.s3")

	got, err := stack.Infra(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"jaeger", "postgres", "prometheus", "redis"}; !reflect.DeepEqual(got, want) {
		t.Errorf("local needs %v, want %v", got, want)
	}
	got, err = stack.Infra(root, "emu")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"dynalite", "jaeger", "kafka", "prometheus"}; !reflect.DeepEqual(got, want) {
		t.Errorf("emu needs %v, want %v", got, want)
	}
	if _, err := stack.Infra(root, "odd"); err == nil || !strings.Contains(err.Error(), "bindings.aws.s3") {
		t.Errorf("an unknown type: %v", err)
	}
	if _, err := stack.Infra(root, "missing"); err == nil {
		t.Error("a profile without YAMLs gave no error")
	}
	if _, err := stack.Infra(root, "../local"); err == nil {
		t.Error("a path as profile gave no error")
	}
}

// Every profile the runner runs has a local server for each of its
// component types.
func TestRunnerProfilesNeedKnownServers(t *testing.T) {
	root := filepath.Dir(filepath.Dir(loadRepoTemplate(t).Path))
	for _, p := range append([]string{stack.DefaultProfile}, runnerProfiles...) {
		servers, err := stack.Infra(root, p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		for _, s := range servers {
			if _, err := os.Stat(filepath.Join(root, "local", s+".sh")); err != nil {
				t.Errorf("%s needs %s, but local/%s.sh is missing", p, s, s)
			}
		}
	}
}
