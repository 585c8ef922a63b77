package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/tests/load/shop"
	"github.com/shopmesh/shopmesh/tests/load/shop/shoptest"
)

// fakeProc makes a proc file system with this command (self) and, unless
// bare, one gateway process.
func fakeProc(t *testing.T, bare bool) string {
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	const stat = "%d (%s) S 1 1 1 0 -1 0 0 0 0 0 %d 0 0 0 20 0 1 0 100 0 0\n"
	write("self/stat", fmt.Sprintf(stat, 99, "bench", 5))
	write("self/auxv", string(binary.NativeEndian.AppendUint64(binary.NativeEndian.AppendUint64(
		binary.NativeEndian.AppendUint64(binary.NativeEndian.AppendUint64(nil, 17), 100), 0), 0)))
	if !bare {
		write("42/stat", fmt.Sprintf(stat, 42, "gateway", 250))
		write("42/cmdline", "/x/.local/bin/gateway\x00")
	}
	return dir
}

func testOptions(t *testing.T, gateway, rates string) options {
	return options{
		shop:       shop.Config{Gateway: gateway, AdminEmail: "admin@example.com", AdminPassword: "admin-pass-1", ShopperAddrs: "auto"},
		profile:    "test",
		rates:      rates,
		step:       200 * time.Millisecond,
		settle:     time.Second,
		shopperGap: time.Second,
		products:   2,
		signups:    8,
		criteria:   defaultCriteria,
		procDir:    fakeProc(t, false),
	}
}

func TestRunStepsUpAndNamesTheHighestPassingRate(t *testing.T) {
	g := &shoptest.Gateway{Settle: 20 * time.Millisecond}
	srv := httptest.NewServer(g)
	defer srv.Close()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), testOptions(t, srv.URL, "20,40"), &out, log.New(io.Discard, "", 0)))

	text := out.String()
	assert.Contains(t, text, "profile=test")
	rows := tableRows(text)
	require.Len(t, rows, 2, text)
	assert.Equal(t, "20", rows[0][0])
	assert.Equal(t, "40", rows[1][0])
	for _, r := range rows {
		assert.Equal(t, "pass", r[len(r)-1], text)
	}
	assert.Contains(t, text, "CPU by process at 40/s", "the split is for the last step")
	assert.Regexp(t, `apps\s+gateway\s+1\s+0\.00\s+0\.00\n`, text)
	assert.Contains(t, text, "highest rate at which every accepted order settled with p99 <= 1s: 40/s\n")
	assert.Zero(t, g.Overlaps())
	assert.Equal(t, 4, g.Answered("POST /api/v1/products"), "the products of each step, two each")
	assert.Equal(t, 40, g.Answered("POST /api/v1/auth/register"), "the second step signs up only the 20 shoppers more it needs")
}

func TestRunStopsAfterAStepThatClearlyFailed(t *testing.T) {
	g := &shoptest.Gateway{} // orders never settle
	srv := httptest.NewServer(g)
	defer srv.Close()
	o := testOptions(t, srv.URL, "20,40,80")
	o.settle = 300 * time.Millisecond
	o.procDir = fakeProc(t, true)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), o, &out, log.New(io.Discard, "", 0)))

	text := out.String()
	rows := tableRows(text)
	require.Len(t, rows, 1, text)
	assert.Equal(t, []string{"-", "-", "-"}, rows[0][15:18], "no stack processes found: no CPU figures")
	assert.NotContains(t, text, "CPU by process")
	assert.Equal(t, "unsettled", rows[0][len(rows[0])-1])
	assert.Contains(t, text, "stopped after 20/s")
	assert.Contains(t, text, "p99 <= 1s: none\n")
}

func TestRunSaysWhenTheStackIsNotUp(t *testing.T) {
	srv := httptest.NewServer(&shoptest.Gateway{})
	url := srv.URL
	srv.Close()
	err := run(context.Background(), testOptions(t, url, "20"), io.Discard, log.New(io.Discard, "", 0))
	assert.ErrorContains(t, err, "go tool task up")
}

func TestCPUIsMeasuredOnlyForAStackOnThisMachine(t *testing.T) {
	m, note, err := newCPUMeter("/proc", false, "https://shop.example.com")
	require.NoError(t, err)
	assert.Nil(t, m)
	assert.Equal(t, "CPU not measured: the gateway https://shop.example.com is not on this machine", note)

	m, note, err = newCPUMeter(t.TempDir(), true, "http://127.0.0.1:8080")
	require.NoError(t, err)
	assert.Nil(t, m)
	assert.Contains(t, note, "CPU not measured: no ")

	if runtime.GOOS == "linux" {
		m, note, err = newCPUMeter("/proc", true, "http://127.0.0.1:8080")
		require.NoError(t, err)
		require.NotNil(t, m)
		assert.Empty(t, note)
		assert.Positive(t, m.hz)
	}
}

// tableRows returns the fields of the table's rows: the lines that start
// with a rate.
func tableRows(text string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) > 10 && f[0] != "offered/s" && strings.Trim(f[0], "0123456789.") == "" {
			rows = append(rows, f)
		}
	}
	return rows
}
