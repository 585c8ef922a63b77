package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"gopkg.in/yaml.v3"
)

// infraOf names the local server (a script local/<name>.sh starts it) that a
// component type needs, or "" for types served inside daprd itself. A type
// missing here is refused, so a new profile says what it runs against.
var infraOf = map[string]string{
	"state.postgresql":        "postgres",
	"state.redis":             "redis",
	"pubsub.redis":            "redis",
	"pubsub.kafka":            "kafka",
	"state.aws.dynamodb":      "dynalite",
	"pubsub.aws.snssqs":       "fauxqs",
	"bindings.smtp":           "mailpit",
	"secretstores.local.file": "",
	"bindings.cron":           "",
}

// Observability lists the local servers every profile runs beside the
// stack whatever its components: the trace backend the apps and sidecars
// export to, and Prometheus scraping them.
var Observability = []string{"jaeger", "prometheus"}

// Infra lists, sorted and once each, the local servers the component YAMLs
// of components/<profile> under root need, and the observability servers.
func Infra(root, profile string) ([]string, error) {
	if profile == "" {
		profile = DefaultProfile
	}
	if !profilePattern.MatchString(profile) {
		return nil, fmt.Errorf("profile %q: want a folder name under components/", profile)
	}
	files, err := filepath.Glob(filepath.Join(root, "components", profile, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("profile %q: no component YAMLs in %s", profile, filepath.Join(root, "components", profile))
	}
	out := slices.Clone(Observability)
	for _, f := range files {
		typ, err := fileComponentType(f)
		if err != nil {
			return nil, err
		}
		server, ok := infraOf[typ]
		if !ok {
			return nil, fmt.Errorf("%s: component type %q has no local server the runner knows", f, typ)
		}
		if server != "" {
			out = append(out, server)
		}
	}
	return sortedSet(out), nil
}

// AllInfra lists, sorted, every local server some component type needs:
// what `task infra:down` stops.
func AllInfra() []string {
	out := slices.Clone(Observability)
	for _, server := range infraOf {
		if server != "" {
			out = append(out, server)
		}
	}
	return sortedSet(out)
}

func sortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// ComponentType is the Dapr type (spec.type) of component name in
// components/<profile> under root.
func ComponentType(root, profile, name string) (string, error) {
	if !profilePattern.MatchString(profile) || !profilePattern.MatchString(name) {
		return "", fmt.Errorf("component %q of profile %q: want plain names", name, profile)
	}
	return fileComponentType(filepath.Join(root, "components", profile, name+".yaml"))
}

func fileComponentType(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	var c struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Type string `yaml:"type"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	if c.Kind != "Component" || c.Spec.Type == "" {
		return "", fmt.Errorf("%s: not a Dapr Component with a spec.type", file)
	}
	return c.Spec.Type, nil
}
