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
	var ps [5]int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for i := range ps {
		ln, err := net.Listen("tcp", net.JoinHostPort(LoopbackAddress, "0"))
		if err != nil {
			return Ports{}, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ps[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return Ports{App: ps[0], DaprHTTP: ps[1], DaprGRPC: ps[2], DaprInternalGRPC: ps[3], Metrics: ps[4]}, nil
}
