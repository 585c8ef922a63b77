package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// DefaultProfile is the components profile of the template (components/local).
const DefaultProfile = "local"

var profilePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// WithProfile returns the spec with its resources path that ends in
// components/local replaced by components/<profile>. Nothing else changes
// between profiles. It fails if the profile's folder does not exist or if no
// resources path ends in components/local.
func (s AppSpec) WithProfile(profile string) (AppSpec, error) {
	if profile == "" || profile == DefaultProfile {
		return s, nil
	}
	if !profilePattern.MatchString(profile) {
		return s, fmt.Errorf("profile %q: want a folder name under components/", profile)
	}
	out := s.Clone()
	replaced := false
	for i, p := range out.ResourcesPaths {
		if filepath.Base(p) != DefaultProfile || filepath.Base(filepath.Dir(p)) != "components" {
			continue
		}
		np := filepath.Join(filepath.Dir(p), profile)
		fi, err := os.Stat(np)
		if err != nil || !fi.IsDir() {
			return s, fmt.Errorf("%s: profile %q: folder %s does not exist", s.InstanceName(), profile, np)
		}
		out.ResourcesPaths[i] = np
		replaced = true
	}
	if !replaced {
		return s, fmt.Errorf("%s: profile %q: no resources path ends in components/%s", s.InstanceName(), profile, DefaultProfile)
	}
	return out, nil
}

// WithProfile applies WithProfile to every app of the template.
func (t *Template) WithProfile(profile string) (*Template, error) {
	out := &Template{Path: t.Path}
	for _, a := range t.Apps {
		b, err := a.WithProfile(profile)
		if err != nil {
			return nil, err
		}
		out.Apps = append(out.Apps, b)
	}
	return out, nil
}
