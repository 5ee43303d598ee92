package webguard

import (
	"net"
	"net/http"
	"net/netip"
)

// hostAllowed says whether the request's Host header names this server.
//
// DNS rebinding needs a name the attacker controls that resolves to this
// server: the victim's browser then sends that name as Host. So the names
// served are those the operator knows: loopback names ("localhost" never
// leaves the machine), the host of the public URL and the allowed hosts;
// and an IP literal only when it is the very address the client connected
// to (or a loopback one), which no rebinding can produce.
func (g *Guard) hostAllowed(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = normalHost(host)
	switch {
	case host == "":
		return false
	case isLoopbackHost(host), g.hosts[host]:
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	ap, err := netip.ParseAddrPort(local.String())
	return err == nil && ap.Addr().Unmap() == ip.Unmap()
}

// misdirected answers a request whose Host is not this server's.
func misdirected(w http.ResponseWriter) {
	noStore(w)
	http.Error(w, "this server answers only to its own names: loopback (localhost, 127.0.0.1, [::1]), "+
		"the address connected to, --public-url's host and --allowed-hosts", http.StatusMisdirectedRequest)
}
