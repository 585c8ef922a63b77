package shop

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAddrsAutoIsLoopbackOnlyForALocalGateway(t *testing.T) {
	a, err := ParseAddrs("auto", true, 0)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", a.At(0).String())
	assert.Equal(t, 1<<24-2, a.Len())

	a, err = ParseAddrs("auto", false, 0)
	require.NoError(t, err)
	assert.Nil(t, a, "a remote gateway is reached from the system's address")
	assert.Nil(t, a.At(3))
	assert.Zero(t, a.Len())

	a, err = ParseAddrs("none", true, 0)
	require.NoError(t, err)
	assert.Nil(t, a)
}

func TestAddrsAreDistinctHostAddressesOfThePrefix(t *testing.T) {
	a, err := ParseAddrs("10.1.2.0/29", false, 5) // hosts .1 to .6
	require.NoError(t, err)
	require.Equal(t, 6, a.Len())
	_, prefix, _ := net.ParseCIDR("10.1.2.0/29")
	seen := map[string]bool{}
	for i := range a.Len() {
		ip := a.At(i)
		assert.True(t, prefix.Contains(ip), ip)
		assert.NotEqual(t, "10.1.2.0", ip.String(), "network address")
		assert.NotEqual(t, "10.1.2.7", ip.String(), "broadcast address")
		seen[ip.String()] = true
	}
	assert.Len(t, seen, 6)
	assert.Equal(t, "10.1.2.6", a.At(0).String(), "the offset picks where shoppers start")
	assert.Equal(t, "10.1.2.1", a.At(1).String(), "and wraps around")
	assert.Equal(t, a.At(0), a.At(6))
}

func TestParseAddrsRejectsWhatItCannotHandOut(t *testing.T) {
	for _, spec := range []string{"127.0.0.1", "fd00::/64", "10.0.0.0/31", "banana"} {
		_, err := ParseAddrs(spec, true, 0)
		assert.Error(t, err, spec)
	}
}
