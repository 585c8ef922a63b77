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

// FreePortSets returns n sets of ports, all distinct, for n extra apps. Every
// listener stays open until the last port is picked: a port closed before
// the next pick could be handed out twice.
func FreePortSets(n int) ([]Ports, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	pick := func() (int, error) {
		ln, err := net.Listen("tcp", net.JoinHostPort(LoopbackAddress, "0"))
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		return ln.Addr().(*net.TCPAddr).Port, nil
	}
	sets := make([]Ports, n)
	for i := range sets {
		var ps [5]int
		for j := range ps {
			p, err := pick()
			if err != nil {
				return nil, err
			}
			ps[j] = p
		}
		sets[i] = Ports{App: ps[0], DaprHTTP: ps[1], DaprGRPC: ps[2], DaprInternalGRPC: ps[3], Metrics: ps[4]}
	}
	return sets, nil
}
