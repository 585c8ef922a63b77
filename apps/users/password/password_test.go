package password_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/apps/users/password"
)

// Cheap parameters: the tests check the format and logic, not the cost.
var fast = password.Config{Params: password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, MaxConcurrent: 4}

func newHasher(t *testing.T) *password.Hasher {
	t.Helper()
	h, err := password.NewHasher(fast)
	require.NoError(t, err)
	return h
}

func TestHashRoundTrip(t *testing.T) {
	h := newHasher(t)
	hash, err := h.Hash(t.Context(), "correct horse battery")
	require.NoError(t, err)
	assert.Regexp(t, `^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`, hash)
	assert.NotContains(t, hash, "correct horse")

	ok, err := h.Verify(t.Context(), "correct horse battery", hash)
	require.NoError(t, err)
	assert.True(t, ok)

	ok, err = h.Verify(t.Context(), "correct horse batterY", hash)
	require.NoError(t, err)
	assert.False(t, ok, "wrong password")

	again, err := h.Hash(t.Context(), "correct horse battery")
	require.NoError(t, err)
	assert.NotEqual(t, hash, again, "a fresh salt every time")

	assert.NoError(t, h.VerifyDummy(t.Context(), "anything"))
}

// A hash keeps verifying after the parameters change, and asks for a rehash.
func TestParametersTravelWithTheHash(t *testing.T) {
	old := newHasher(t)
	hash, err := old.Hash(t.Context(), "correct horse battery")
	require.NoError(t, err)
	stronger, err := password.NewHasher(password.Config{Params: password.Params{MemoryKiB: 128, Iterations: 2, Parallelism: 2}, MaxConcurrent: 1})
	require.NoError(t, err)
	ok, err := stronger.Verify(t.Context(), "correct horse battery", hash)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, stronger.NeedsRehash(hash))
	assert.False(t, old.NeedsRehash(hash))
}

// Reference vectors computed independently with the Debian argon2 CLI, e.g.
// echo -n password | argon2 somesalt -id -m 6 -t 1 -p 1 -l 32 -e
func TestKnownVectors(t *testing.T) {
	h := newHasher(t)
	for pw, phc := range map[string]string{
		"password":              "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$cpx6VEQbwTVZvcpxNIxOVUWZ5xnAipUmAe1cg2GMG70",
		"correct horse battery": "$argon2id$v=19$m=1024,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$mbIfcGv56GAnJ5exCVH/wpqQ0KKpUz1WMz0GiAv0vn0",
	} {
		p, salt, key, err := password.Parse(phc)
		require.NoError(t, err)
		assert.Len(t, key, 32)
		assert.Equal(t, phc, password.Format(p, salt, key), "formats back to the same string")
		ok, err := h.Verify(t.Context(), pw, phc)
		require.NoError(t, err)
		assert.True(t, ok, pw)
		ok, err = h.Verify(t.Context(), pw+"!", phc)
		require.NoError(t, err)
		assert.False(t, ok, pw)
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	h := newHasher(t)
	good, err := h.Hash(t.Context(), "correct horse battery")
	require.NoError(t, err)
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for name, bad := range map[string]string{
		"empty":            "",
		"plain text":       "correct horse battery",
		"bcrypt":           "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":          "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"argon2d":          "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"old version":      "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":       "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"params reordered": "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"param missing":    "$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"param extra":      "$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key,
		"param not number": "$argon2id$v=19$m=lots,t=1,p=1$" + salt + "$" + key,
		"negative":         "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"leading zero":     "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"zero iterations":  "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"zero parallelism": "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"memory too small": "$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key,
		"memory too big":   "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"iterations huge":  "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key,
		"parallelism 256":  "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key,
		"salt not base64":  "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key,
		"salt padded":      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"salt too short":   "$argon2id$v=19$m=64,t=1,p=1$YWJj$" + key,
		"hash too short":   "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$YWJj",
		"no hash":          "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"trailing field":   good + "$x",
		"leading garbage":  "x" + good,
	} {
		t.Run(name, func(t *testing.T) {
			_, _, _, err := password.Parse(bad)
			assert.ErrorIs(t, err, password.ErrMalformedHash)
			ok, err := h.Verify(t.Context(), "correct horse battery", bad)
			assert.ErrorIs(t, err, password.ErrMalformedHash)
			assert.False(t, ok)
		})
	}
}

func TestPolicy(t *testing.T) {
	for pw, bad := range map[string]bool{
		"short":                    true,
		"123456789":                true,  // 9 characters
		"Password123":              true,  // common, any case
		"QWERTYUIOP":               true,  // common, any case
		"1234567890":               true,  // common
		"ann@example.com":          true,  // the e-mail
		"Ann@Example.com":          true,  // the e-mail, other case
		strings.Repeat("x", 129):   true,  // too long
		strings.Repeat("é", 10):    false, // characters, not bytes
		"tr0ub4dor&3x":             false,
		"correct horse battery":    false,
		strings.Repeat("x", 128):   false,
		"\xff\xfe invalid utf8 !!": true,
	} {
		err := password.Check(pw, "ann@example.com")
		if bad {
			assert.ErrorIs(t, err, password.ErrWeak, "%q", pw)
			var pe *password.PolicyError
			if assert.ErrorAs(t, err, &pe) {
				assert.NotContains(t, pe.Error(), pw, "the reason never quotes the password")
			}
		} else {
			assert.NoError(t, err, "%q", pw)
		}
	}
	assert.True(t, password.IsCommon("LetMeIn123"))
}

func TestCommonListSize(t *testing.T) {
	n := 0
	for _, pw := range []string{"123456", "password1234", "qwertyuiop", "iloveyou123", "administrator"} {
		if password.IsCommon(pw) {
			n++
		}
	}
	assert.Equal(t, 5, n)
}

func TestLoadConfig(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	c, err := password.LoadConfig(none)
	require.NoError(t, err)
	assert.Equal(t, password.Params{MemoryKiB: 65536, Iterations: 3, Parallelism: 2}, c.Params)
	assert.Positive(t, c.MaxConcurrent)

	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	c, err = password.LoadConfig(env(map[string]string{"ARGON2_MEMORY_KIB": "19456", "ARGON2_ITERATIONS": "2", "ARGON2_PARALLELISM": "1"}))
	require.NoError(t, err)
	assert.Equal(t, password.Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}, c.Params)

	for _, bad := range []map[string]string{
		{"ARGON2_MEMORY_KIB": "lots"},
		{"ARGON2_MEMORY_KIB": "8", "ARGON2_PARALLELISM": "2"},
		{"ARGON2_ITERATIONS": "0"},
		{"ARGON2_PARALLELISM": "300"},
		{"ARGON2_MAX_CONCURRENT": "0"},
	} {
		_, err := password.LoadConfig(env(bad))
		assert.Error(t, err, "%v", bad)
	}
}

// A caller that has gone away does not get a hash computed for it.
func TestHashingStopsForCancelledCallers(t *testing.T) {
	h := newHasher(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := h.Hash(ctx, "correct horse battery")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = h.Verify(ctx, "correct horse battery", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$cpx6VEQbwTVZvcpxNIxOVUWZ5xnAipUmAe1cg2GMG70")
	assert.ErrorIs(t, err, context.Canceled)
}
