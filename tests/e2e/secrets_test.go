package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretValues returns what must never be shown: every value of the local
// secret store except identifiers (e-mail addresses, key ids), with PEM
// keys cut into their base64 lines, plus the extra values given.
func secretValues(t *testing.T, extra ...string) []string {
	t.Helper()
	var out []string
	for k, v := range localSecrets(t) {
		if strings.Contains(k, "email") || strings.HasSuffix(k, "-id") {
			continue
		}
		for _, line := range strings.Split(v, "\n") {
			if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
				out = append(out, line)
			}
		}
		if !strings.Contains(v, "\n") && len(v) >= 8 {
			out = append(out, v)
		}
	}
	require.NotEmpty(t, out)
	return append(out, extra...)
}

// Passwords, keys, DSNs and tokens appear in no log of a run, in no error
// answer and in no file of the repository.
func TestSecretsStayOutOfLogsAnswersAndTheRepository(t *testing.T) {
	requireStack(t)
	s := newShopper(t)
	email := freshEmail("leak")
	password := "Leak-check-" + uniqueSKU("pw")
	require.Equal(t, http.StatusCreated, s.call(t, http.MethodPost, "/api/v1/auth/register",
		map[string]string{"email": email, "password": password, "name": "Leak Check"}).Status)

	wrong := s.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": password + "x"})
	requireProblem(t, wrong, http.StatusUnauthorized)
	assert.NotContains(t, string(wrong.Body), password)

	r := s.call(t, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": password})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	r.decode(t, &tok)
	parts := strings.Split(tok.AccessToken, ".")
	require.Len(t, parts, 3)
	me := s.call(t, http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+tok.AccessToken)
	require.Equal(t, http.StatusOK, me.Status)
	refreshed := s.call(t, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": tok.RefreshToken})
	require.Equal(t, http.StatusOK, refreshed.Status)
	// A tampered token is refused without being echoed.
	bad := s.call(t, http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer "+tok.AccessToken+"x")
	requireProblem(t, bad, http.StatusUnauthorized)
	assert.NotContains(t, string(bad.Body), parts[2])

	secrets := secretValues(t, password, parts[2], tok.RefreshToken)
	logs, err := filepath.Glob(filepath.Join(repoRoot(), ".local", "logs", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, logs)
	for _, path := range logs {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, v := range secrets {
			assert.False(t, bytes.Contains(data, []byte(v)), "%s shows a secret value (%d characters)", filepath.Base(path), len(v))
		}
	}

	files, err := exec.Command("git", "-C", repoRoot(), "ls-files", "-z").Output()
	require.NoError(t, err)
	for _, name := range bytes.Split(files, []byte{0}) {
		if len(name) == 0 {
			continue
		}
		data, err := os.ReadFile(filepath.Join(repoRoot(), string(name)))
		if err != nil {
			continue // deleted in the work tree
		}
		for _, v := range secrets {
			assert.False(t, bytes.Contains(data, []byte(v)), "%s holds a secret value", name)
		}
	}
}
