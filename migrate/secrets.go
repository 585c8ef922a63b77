package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// secrets are the flat string keys of the local secrets file written by
// local/secrets.sh (e.g. catalog-db-password, catalog-store-dsn).
type secrets struct {
	path   string // only for error messages
	values map[string]string
}

// readSecrets loads the secrets file. Its values are never logged.
func readSecrets(path string) (secrets, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return secrets{}, fmt.Errorf("read secrets file (create it with local/secrets.sh ensure): %w", err)
	}
	values := map[string]string{}
	if err := json.Unmarshal(data, &values); err != nil {
		return secrets{}, fmt.Errorf("parse secrets file %s (want a JSON object of strings): %w", path, err)
	}
	return secrets{path: path, values: values}, nil
}

// get returns a non-empty value or an error naming the key and the file, so
// a service added to sql/ but not to local/secrets.sh is easy to diagnose.
func (s secrets) get(key string) (string, error) {
	v := s.values[key]
	if v == "" {
		return "", fmt.Errorf("secrets file %s has no key %q (run local/secrets.sh ensure, and list the service there)", s.path, key)
	}
	return v, nil
}

// passwordKey and dsnKey name a service's entries in the secrets file.
func passwordKey(service string) string { return service + "-db-password" }
func dsnKey(service string) string      { return service + "-store-dsn" }
