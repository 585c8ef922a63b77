// Package password hashes passwords with argon2id into PHC strings
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), verifies them in constant time and
// holds the password policy. It knows neither Gin nor Dapr.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"go.uber.org/fx"
	"golang.org/x/crypto/argon2"

	"github.com/shopmesh/shopmesh/internal/platform/config"
)

// Params are argon2id's cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// Lengths of what Hash generates.
const (
	saltLen = 16
	keyLen  = 32
)

// Bounds on parameters read back from a stored hash, so a corrupt or
// planted hash cannot make one verification take gigabytes or minutes.
const (
	maxMemoryKiB  = 1 << 21 // 2 GiB
	maxIterations = 64
	minSaltLen    = 8
	maxSaltLen    = 64
	minKeyLen     = 16
	maxKeyLen     = 128
)

func (p Params) validate() error {
	switch {
	case p.Parallelism < 1:
		return errors.New("parallelism must be at least 1")
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("iterations must be from 1 to %d", maxIterations)
	case p.MemoryKiB < 8*uint32(p.Parallelism) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("memory must be from 8×parallelism to %d KiB", maxMemoryKiB)
	}
	return nil
}

// Config is the hashing configuration.
type Config struct {
	Params
	// MaxConcurrent bounds simultaneous hash computations: each takes
	// MemoryKiB of memory, so a burst of logins must queue, not swap.
	MaxConcurrent int
}

// LoadConfig reads ARGON2_MEMORY_KIB (default 65536), ARGON2_ITERATIONS (3),
// ARGON2_PARALLELISM (2) and ARGON2_MAX_CONCURRENT (number of CPUs).
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	l := config.NewLoader(lookup)
	mem := l.Int("ARGON2_MEMORY_KIB", 64*1024)
	it := l.Int("ARGON2_ITERATIONS", 3)
	par := l.Int("ARGON2_PARALLELISM", 2)
	conc := l.Int("ARGON2_MAX_CONCURRENT", runtime.NumCPU())
	if err := l.Err(); err != nil {
		return Config{}, err
	}
	if mem < 0 || mem > maxMemoryKiB || it < 0 || it > maxIterations || par < 1 || par > 255 {
		return Config{}, fmt.Errorf("config ARGON2_*: out of range (memory %d KiB, iterations %d, parallelism %d)", mem, it, par)
	}
	cfg := Config{Params: Params{MemoryKiB: uint32(mem), Iterations: uint32(it), Parallelism: uint8(par)}, MaxConcurrent: conc}
	if err := cfg.Params.validate(); err != nil {
		return Config{}, fmt.Errorf("config ARGON2_*: %w", err)
	}
	if cfg.MaxConcurrent < 1 {
		return Config{}, errors.New("config ARGON2_MAX_CONCURRENT: must be at least 1")
	}
	return cfg, nil
}

// ErrMalformedHash: a stored hash is not an argon2id PHC string this package
// accepts.
var ErrMalformedHash = errors.New("password: malformed argon2id hash")

// Hasher hashes and verifies passwords with the configured parameters.
type Hasher struct {
	params Params
	slots  chan struct{}
	dummy  string
}

// NewHasher returns a Hasher. It hashes one random password up front: the
// dummy that VerifyDummy checks against, so that an unknown e-mail costs as
// much time as a wrong password.
func NewHasher(cfg Config) (*Hasher, error) {
	if err := cfg.Params.validate(); err != nil {
		return nil, err
	}
	h := &Hasher{params: cfg.Params, slots: make(chan struct{}, max(cfg.MaxConcurrent, 1))}
	dummy, err := h.Hash(context.Background(), rand.Text())
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

// acquire waits for a hashing slot.
func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of password with a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	key := argon2.IDKey([]byte(password), salt, h.params.Iterations, h.params.MemoryKiB, h.params.Parallelism, keyLen)
	return Format(h.params, salt, key), nil
}

// Verify reports whether password matches the PHC string hash, comparing in
// constant time. A hash that does not parse is ErrMalformedHash.
func (h *Hasher) Verify(ctx context.Context, password, hash string) (bool, error) {
	p, salt, want, err := Parse(hash)
	if err != nil {
		return false, err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy spends the time of a verification and always fails: callers
// use it for unknown accounts so that timing does not tell them apart.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, password, h.dummy)
	return err
}

// NeedsRehash reports whether hash was made with other parameters than the
// current ones (or does not parse): rehash on the next successful sign-in.
func (h *Hasher) NeedsRehash(hash string) bool {
	p, _, key, err := Parse(hash)
	return err != nil || p != h.params || len(key) != keyLen
}

// Format writes the PHC string of an argon2id key.
func Format(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Parse reads an argon2id PHC string strictly: version 19, parameters in the
// order m,t,p within sane bounds, unpadded base64 salt and hash.
func Parse(hash string) (p Params, salt, key []byte, err error) {
	fail := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("want $argon2id$v=…$m=…,t=…,p=…$salt$hash")
	}
	if parts[1] != "argon2id" {
		return fail("not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("unsupported version")
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return fail("want parameters m,t,p")
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return fail("want parameters m,t,p")
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil || (len(v) > 1 && v[0] == '0') {
			return fail("parameter " + name + " is not a number")
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return fail("parallelism out of range")
	}
	p = Params{MemoryKiB: uint32(vals[0]), Iterations: uint32(vals[1]), Parallelism: uint8(vals[2])}
	if verr := p.validate(); verr != nil {
		return fail(verr.Error())
	}
	salt, serr := b64.Strict().DecodeString(parts[4])
	key, kerr := b64.Strict().DecodeString(parts[5])
	switch {
	case serr != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen:
		return fail("bad salt")
	case kerr != nil || len(key) < minKeyLen || len(key) > maxKeyLen:
		return fail("bad hash")
	}
	return p, salt, key, nil
}

// Module provides the Hasher configured from the environment.
var Module = fx.Provide(
	func() (Config, error) { return LoadConfig(os.LookupEnv) },
	NewHasher,
)
