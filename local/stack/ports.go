package stack

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
)

// PortInUseError says that a port an app or its sidecar needs is taken.
type PortInUseError struct {
	App  string
	Port int
	Role string
	Err  error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("%s: port %d (%s) is already in use by another process", e.App, e.Port, e.Role)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// CheckPorts tries to listen on 127.0.0.1 on every port of the app and its
// sidecar, and returns a *PortInUseError (joined, one per port) for each one
// that is busy.
func CheckPorts(s AppSpec) error { return checkPortList(s.InstanceName(), s.Ports.List()) }

func checkPortList(name string, ports []PortUse) error {
	var errs []error
	for _, p := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort(LoopbackAddress, strconv.Itoa(p.Port)))
		if err != nil {
			errs = append(errs, &PortInUseError{App: name, Port: p.Port, Role: p.Role, Err: err})
			continue
		}
		_ = ln.Close()
	}
	return errors.Join(errs...)
}

// FreePorts returns a set of distinct ports that were free a moment ago, for
// an extra app started by a test.
func FreePorts() (Ports, error) {
	sets, err := FreePortSets(1)
	if err != nil {
		return Ports{}, err
	}
	return sets[0], nil
}

// FreePortSets returns n sets of ports, all distinct, for n extra apps.
func FreePortSets(n int) ([]Ports, error) {
	ps, err := FreeLoopbackPorts(5 * n)
	if err != nil {
		return nil, err
	}
	sets := make([]Ports, n)
	for i := range sets {
		p := ps[5*i:]
		sets[i] = Ports{App: p[0], DaprHTTP: p[1], DaprGRPC: p[2], DaprInternalGRPC: p[3], Metrics: p[4]}
	}
	return sets, nil
}

// FreeLoopbackPorts returns n distinct loopback ports that were free a
// moment ago. They lie below the kernel's ephemeral range: between the pick
// and the bind by daprd or an app, any process's outgoing connection could
// take an ephemeral port as its local end (a daprd in CI failed so, with
// the whole stack talking beside it). Every listener stays open until the
// last port is picked, so no port is handed out twice.
func FreeLoopbackPorts(n int) ([]int, error) {
	low, _ := EphemeralPortRange()
	first := pickableFrom
	if low-first < 1000 {
		first = 1024
	}
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, fmt.Errorf("find %d free ports in %d-%d: only %d after %d tries", n, first, low-1, len(ports), tries)
		}
		p := first + rand.IntN(low-first)
		ln, err := net.Listen("tcp", net.JoinHostPort(LoopbackAddress, strconv.Itoa(p)))
		if err != nil {
			continue // taken, or picked already (its listener is still open)
		}
		defer ln.Close()
		ports = append(ports, p)
	}
	return ports, nil
}

// pickableFrom is the first port FreeLoopbackPorts considers: above every
// fixed port of the template and the local servers (all below 20000).
const pickableFrom = 20000

// EphemeralPortRange is the kernel's range for the local ends of outgoing
// connections (Linux's default when /proc does not say).
func EphemeralPortRange() (low, high int) {
	low, high = 32768, 60999
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return low, high
	}
	var l, h int
	if _, err := fmt.Sscan(string(data), &l, &h); err != nil || l <= 1024 || h < l {
		return low, high
	}
	return l, h
}
