package proccpu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"
)

// atClkTck is the auxiliary vector entry the kernel passes every process
// with USER_HZ, the unit of /proc's CPU times: what sysconf(_SC_CLK_TCK)
// returns, read without cgo.
const atClkTck = 17

// ClockTicks returns the clock ticks per second of /proc's CPU times:
// from dir/self/auxv, else from `getconf CLK_TCK`.
func ClockTicks(dir string) (int, error) {
	if raw, err := os.ReadFile(filepath.Join(dir, "self", "auxv")); err == nil {
		if hz, ok := auxvValue(raw, binary.NativeEndian, int(unsafe.Sizeof(uintptr(0))), atClkTck); ok && hz > 0 {
			return int(hz), nil
		}
	}
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 0, fmt.Errorf("clock ticks per second: no AT_CLKTCK in %s/self/auxv, and getconf CLK_TCK: %w", dir, err)
	}
	hz, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || hz <= 0 {
		return 0, errors.New("clock ticks per second: getconf CLK_TCK said " + strings.TrimSpace(string(out)))
	}
	return hz, nil
}

// auxvValue finds key in an auxiliary vector: pairs of words (key, value)
// ending with key 0.
func auxvValue(raw []byte, order binary.ByteOrder, word int, key uint64) (uint64, bool) {
	read := func(b []byte) uint64 {
		if word == 4 {
			return uint64(order.Uint32(b))
		}
		return order.Uint64(b)
	}
	for i := 0; i+2*word <= len(raw); i += 2 * word {
		k := read(raw[i:])
		if k == 0 {
			break
		}
		if k == key {
			return read(raw[i+word:]), true
		}
	}
	return 0, false
}
