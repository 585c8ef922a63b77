package stack

import (
	"errors"
	"fmt"
	"net"
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
func CheckPorts(s AppSpec) error {
	var errs []error
	for _, p := range s.Ports.List() {
		ln, err := net.Listen("tcp", net.JoinHostPort(LoopbackAddress, strconv.Itoa(p.Port)))
		if err != nil {
			errs = append(errs, &PortInUseError{App: s.InstanceName(), Port: p.Port, Role: p.Role, Err: err})
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
// moment ago. Every listener stays open until the last port is picked: a
// port closed before the next pick could be handed out twice.
func FreeLoopbackPorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort(LoopbackAddress, "0"))
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}
