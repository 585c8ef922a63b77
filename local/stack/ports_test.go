package stack

import (
	"errors"
	"net"
	"strings"
	"testing"
)

func TestCheckPortsNamesBusyPort(t *testing.T) {
	ports, err := FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	spec := AppSpec{ID: "gateway", Ports: ports}
	if err := CheckPorts(spec); err != nil {
		t.Fatalf("free ports reported busy: %v", err)
	}

	// Another process's listener, on all interfaces as most servers do.
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	spec.App = ln.Addr().(*net.TCPAddr).Port

	err = CheckPorts(spec)
	var busy *PortInUseError
	if !errors.As(err, &busy) {
		t.Fatalf("err = %v, want a *PortInUseError", err)
	}
	if busy.App != "gateway" || busy.Port != spec.App || busy.Role != "app" {
		t.Errorf("busy = %+v", busy)
	}
	want := "gateway: port " + itoa(spec.App) + " (app) is already in use by another process"
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}

	// A loopback listener on a sidecar port is found as well, under its role.
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	spec.Name = "catalog-extra"
	spec.DaprInternalGRPC = ln2.Addr().(*net.TCPAddr).Port
	err = CheckPorts(spec)
	want2 := "catalog-extra: port " + itoa(spec.DaprInternalGRPC) + " (dapr internal grpc) is already in use by another process"
	if err == nil || !strings.Contains(err.Error(), want2) {
		t.Errorf("err = %v, want it to contain %q", err, want2)
	}
}

func TestFreePortsDistinct(t *testing.T) {
	p, err := FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, u := range p.List() {
		if u.Port <= 0 || seen[u.Port] {
			t.Fatalf("ports not distinct: %+v", p)
		}
		seen[u.Port] = true
	}
}

// Picked ports lie outside the ephemeral range, where no outgoing
// connection can take one before the app binds it, and are distinct.
func TestFreeLoopbackPortsAvoidEphemeralRange(t *testing.T) {
	low, high := EphemeralPortRange()
	ports, err := FreeLoopbackPorts(50)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p >= low && p <= high {
			t.Errorf("port %d is in the ephemeral range %d-%d", p, low, high)
		}
		if p < pickableFrom || seen[p] {
			t.Errorf("port %d below %d or picked twice: %v", p, pickableFrom, ports)
		}
		seen[p] = true
		ln, err := net.Listen("tcp", net.JoinHostPort(LoopbackAddress, itoa(p)))
		if err != nil {
			t.Errorf("picked port %d is not free: %v", p, err)
			continue
		}
		ln.Close()
	}
}
