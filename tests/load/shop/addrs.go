package shop

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
)

// Addrs hands out source addresses from an IPv4 prefix, one per shopper,
// so a gateway that limits requests per client address limits each
// shopper on its own. A nil *Addrs hands out none: the system picks the
// source address, and every shopper shares it.
type Addrs struct {
	prefix netip.Prefix
	first  uint32 // the prefix's first host address (network address + 1)
	hosts  uint32 // host addresses, without network and broadcast
	offset uint32 // where this run starts, so runs do not reuse addresses
}

// ParseAddrs reads a source-address setting: "none" (the system's choice),
// "auto" (127.0.0.0/8 when the gateway is on this machine, else none) or
// an IPv4 prefix whose addresses this host owns. offset picks where in the
// prefix the first shopper's address is.
func ParseAddrs(spec string, gatewayIsLocal bool, offset uint32) (*Addrs, error) {
	switch spec {
	case "none":
		return nil, nil
	case "", "auto":
		if !gatewayIsLocal {
			return nil, nil
		}
		spec = "127.0.0.0/8"
	}
	prefix, err := netip.ParsePrefix(spec)
	if err != nil {
		return nil, fmt.Errorf("shopper addresses %q: want none, auto or an IPv4 prefix: %w", spec, err)
	}
	if !prefix.Addr().Is4() {
		return nil, fmt.Errorf("shopper addresses %q: only IPv4 prefixes (the gateway limits IPv6 clients per /64)", spec)
	}
	if prefix.Bits() > 30 {
		return nil, fmt.Errorf("shopper addresses %q: prefix too small, want /30 or larger", spec)
	}
	a4 := prefix.Masked().Addr().As4()
	size := uint64(1) << (32 - prefix.Bits())
	hosts := uint32(size - 2)
	return &Addrs{prefix: prefix.Masked(), first: binary.BigEndian.Uint32(a4[:]) + 1, hosts: hosts, offset: offset % hosts}, nil
}

// At returns the i-th address: distinct for the first Len() values of i,
// never the prefix's network or broadcast address. Nil for a nil *Addrs.
func (a *Addrs) At(i int) net.IP {
	if a == nil {
		return nil
	}
	n := a.first + uint32((uint64(a.offset)+uint64(i))%uint64(a.hosts))
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, n)
	return ip
}

// Len is how many distinct addresses At hands out (0 for a nil *Addrs).
func (a *Addrs) Len() int {
	if a == nil {
		return 0
	}
	return int(a.hosts)
}

// String describes the addresses for the run's header.
func (a *Addrs) String() string {
	if a == nil {
		return "system-chosen (shared by all shoppers)"
	}
	return "one per shopper from " + a.prefix.String()
}
