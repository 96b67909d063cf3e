// goref: the Go reference tunnel for riftgate's benchmarks. It rebuilds what the original Go
// riftgate did (seed/riftgate-STATUS.md): wireguard-go's device on a TUN, with a custom
// conn.Bind whose "socket" is one pion/webrtc v4 data channel (label "wireguard", unordered,
// maxRetransmits 0). One WireGuard datagram = one data-channel message.
//
// Two processes are paired by their signaling lines: JSON objects on stdout, one per line, read
// back from stdin (the interop contract of tests/interop/PROTOCOL.md: offer, answer, candidate,
// end-of-candidates). Logs go to stderr. ICE uses only --ice-addr (UDP4 host candidates, no
// STUN, no mDNS). It runs until SIGINT/SIGTERM.
//
// Written for riftgate's bench/tunnel-vs-go.sh; no code from the original (which we do not have).
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
)

type sigMsg struct {
	Type          string  `json:"type"`
	SDP           string  `json:"sdp,omitempty"`
	Candidate     *string `json:"candidate,omitempty"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
}

var (
	start = time.Now()
	outMu sync.Mutex
)

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "goref[%7.3f] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
}

func die(format string, a ...any) {
	logf("fatal: "+format, a...)
	os.Exit(1)
}

func emit(m sigMsg) {
	b, err := json.Marshal(m)
	if err != nil {
		die("json: %v", err)
	}
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

// ---- the Bind: wireguard-go's network side, carried by one data channel ----

// dcEndpoint names the peer at the other end of the data channel; there is no IP:port.
type dcEndpoint struct{ id string }

func (e *dcEndpoint) ClearSrc()           {}
func (e *dcEndpoint) SrcToString() string { return "" }
func (e *dcEndpoint) DstToString() string { return e.id }
func (e *dcEndpoint) DstToBytes() []byte  { return []byte(e.id) }

// DstIP keys wireguard-go's handshake rate limiter: one fixed address for the one peer.
func (e *dcEndpoint) DstIP() netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, 2}) }
func (e *dcEndpoint) SrcIP() netip.Addr { return netip.Addr{} }

const (
	recvQueueLen  = 1024    // messages queued between pion's OnMessage and wireguard-go
	sendHighBytes = 1 << 20 // above this bufferedAmount, Send waits (like a full UDP socket buffer)
	sendLowBytes  = 1 << 19 // ... until it falls below this
	sendWaitMax   = 200 * time.Millisecond
	bindBatch     = 32
)

type dcBind struct {
	mu     sync.Mutex
	dc     *webrtc.DataChannel // nil until the channel is open
	closed chan struct{}       // closed by Close; replaced by Open (wireguard-go's BindUpdate cycle)
	recv   chan []byte
	low    chan struct{} // signalled by OnBufferedAmountLow
	ep     *dcEndpoint

	// Counters for the shutdown line: messages sent and received, receive-queue drops,
	// sends that found the buffer still full after sendWaitMax.
	sent, received, dropped, waitTimeouts atomic.Uint64
}

func newBind(peerID string) *dcBind {
	b := &dcBind{
		closed: make(chan struct{}),
		recv:   make(chan []byte, recvQueueLen),
		low:    make(chan struct{}, 1),
		ep:     &dcEndpoint{id: peerID},
	}
	close(b.closed)
	return b
}

func (b *dcBind) setChannel(dc *webrtc.DataChannel) {
	dc.SetBufferedAmountLowThreshold(sendLowBytes)
	dc.OnBufferedAmountLow(func() {
		select {
		case b.low <- struct{}{}:
		default:
		}
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		// A full queue drops, as a full UDP receive buffer would.
		select {
		case b.recv <- m.Data:
			b.received.Add(1)
		default:
			b.dropped.Add(1)
		}
	})
	b.mu.Lock()
	b.dc = dc
	b.mu.Unlock()
}

func (b *dcBind) Open(port uint16) ([]conn.ReceiveFunc, uint16, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.closed:
	default:
		return nil, 0, conn.ErrBindAlreadyOpen
	}
	closed := make(chan struct{})
	b.closed = closed
	fn := func(packets [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
		var m []byte
		select {
		case m = <-b.recv:
		case <-closed:
			return 0, net.ErrClosed
		}
		n := 0
		for {
			sizes[n] = copy(packets[n], m)
			eps[n] = b.ep
			n++
			if n == len(packets) {
				return n, nil
			}
			select {
			case m = <-b.recv:
			default:
				return n, nil
			}
		}
	}
	return []conn.ReceiveFunc{fn}, port, nil
}

func (b *dcBind) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.closed:
	default:
		close(b.closed)
	}
	return nil
}

func (b *dcBind) SetMark(uint32) error { return nil }
func (b *dcBind) BatchSize() int       { return bindBatch }

func (b *dcBind) ParseEndpoint(s string) (conn.Endpoint, error) {
	if s != b.ep.id {
		return nil, fmt.Errorf("unknown peer %q", s)
	}
	return b.ep, nil
}

func (b *dcBind) Send(bufs [][]byte, ep conn.Endpoint) error {
	b.mu.Lock()
	dc := b.dc
	b.mu.Unlock()
	if dc == nil {
		return errors.New("data channel not open")
	}
	for _, p := range bufs {
		if dc.BufferedAmount() > sendHighBytes {
			select {
			case <-b.low:
			case <-time.After(sendWaitMax):
				b.waitTimeouts.Add(1)
			}
		}
		// pion copies the payload into its SCTP chunks, so wireguard-go may reuse p.
		if err := dc.Send(p); err != nil {
			return err
		}
		b.sent.Add(1)
	}
	return nil
}

// ---- setup ----

func keyHex(b64 string) string {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(k) != 32 {
		die("a key is not 32 bytes of base64")
	}
	return hex.EncodeToString(k)
}

func run(name string, args ...string) {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		die("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

func main() {
	role := flag.String("role", "", "offer|answer")
	ifname := flag.String("ifname", "", "TUN interface name")
	addr := flag.String("addr", "", "tunnel address with prefix, e.g. 10.98.101.1/24")
	peerAddr := flag.String("peer-addr", "", "peer's tunnel address (allowed-ips /32)")
	key := flag.String("key", "", "WireGuard private key (base64)")
	keyFile := flag.String("key-file", "", "file holding the private key (instead of --key)")
	peerPub := flag.String("peer-pub", "", "peer's WireGuard public key (base64)")
	mtu := flag.Int("mtu", device.DefaultMTU, "TUN MTU")
	iceAddr := flag.String("ice-addr", "127.0.0.1", "the only local address used for ICE")
	udpBuf := flag.Int("udp-buf", 0, "ICE UDP socket buffers in bytes (0: pion's default sockets, "+
		"as the original; >0: one socket of that size shared through pion's UDPMux)")
	verbose := flag.Bool("v", false, "wireguard-go verbose log")
	flag.Parse()
	if (*role != "offer" && *role != "answer") || *ifname == "" || *addr == "" || *peerAddr == "" ||
		*peerPub == "" || (*key == "") == (*keyFile == "") {
		fmt.Fprintln(os.Stderr, "usage: goref --role offer|answer --ifname NAME --addr A/PLEN "+
			"--peer-addr B --key PRIV|--key-file F --peer-pub PUB [--mtu N] [--ice-addr IP] [--udp-buf N]")
		os.Exit(2)
	}
	priv := *key
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			die("key file: %v", err)
		}
		priv = string(b)
	}
	ip := net.ParseIP(*iceAddr)
	if ip == nil || ip.To4() == nil {
		die("--ice-addr must be an IPv4 address")
	}

	// The TUN and its address first: a failure here needs no signaling to report.
	tdev, err := tun.CreateTUN(*ifname, *mtu)
	if err != nil {
		die("CreateTUN %s: %v", *ifname, err)
	}
	run("ip", "addr", "add", *addr, "dev", *ifname)
	run("ip", "link", "set", *ifname, "up")

	bind := newBind("peer")
	level := device.LogLevelError
	if *verbose {
		level = device.LogLevelVerbose
	}
	wg := device.NewDevice(tdev, bind, device.NewLogger(level, "wg: "))
	cfg := fmt.Sprintf("private_key=%s\npublic_key=%s\nendpoint=peer\nreplace_allowed_ips=true\n"+
		"allowed_ip=%s/32\n", keyHex(priv), keyHex(*peerPub), *peerAddr)
	if err := wg.IpcSet(cfg); err != nil {
		die("wireguard config: %v", err)
	}

	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIPFilter(func(c net.IP) bool { return c.Equal(ip) })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if *udpBuf > 0 {
		// Not what the original did: a tuned variant, to see how much of the gap is socket
		// buffering. Capped by net.core.rmem_max/wmem_max.
		uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip})
		if err != nil {
			die("ListenUDP %s: %v", ip, err)
		}
		if err := uc.SetReadBuffer(*udpBuf); err != nil {
			die("SetReadBuffer: %v", err)
		}
		if err := uc.SetWriteBuffer(*udpBuf); err != nil {
			die("SetWriteBuffer: %v", err)
		}
		se.SetICEUDPMux(ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: uc}))
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		die("NewPeerConnection: %v", err)
	}

	// Candidates go out only after our description; remote ones wait for the remote description.
	var sigMu sync.Mutex
	descSent, remoteSet := false, false
	var pendingOut []sigMsg
	var pendingIn []webrtc.ICECandidateInit
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		m := sigMsg{Type: "end-of-candidates"}
		if c != nil {
			j := c.ToJSON()
			mid, idx := "0", uint16(0)
			m = sigMsg{Type: "candidate", Candidate: &j.Candidate, SDPMid: &mid, SDPMLineIndex: &idx}
		}
		sigMu.Lock()
		defer sigMu.Unlock()
		if !descSent {
			pendingOut = append(pendingOut, m)
			return
		}
		emit(m)
	})
	sendDesc := func(d webrtc.SessionDescription) {
		sigMu.Lock()
		defer sigMu.Unlock()
		emit(sigMsg{Type: d.Type.String(), SDP: d.SDP})
		descSent = true
		for _, m := range pendingOut {
			emit(m)
		}
		pendingOut = nil
	}
	setRemote := func(d webrtc.SessionDescription) {
		if err := pc.SetRemoteDescription(d); err != nil {
			die("SetRemoteDescription: %v", err)
		}
		sigMu.Lock()
		remoteSet = true
		q := pendingIn
		pendingIn = nil
		sigMu.Unlock()
		for _, c := range q {
			if err := pc.AddICECandidate(c); err != nil {
				logf("AddICECandidate: %v", err)
			}
		}
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) { logf("connection %s", s) })

	opened := make(chan *webrtc.DataChannel, 1)
	onOpen := func(dc *webrtc.DataChannel) {
		dc.OnOpen(func() {
			logf("data channel %q open (ordered=%v maxRetransmits=%v)", dc.Label(), dc.Ordered(),
				*dc.MaxRetransmits())
			opened <- dc
		})
	}
	if *role == "offer" {
		ordered, zero := false, uint16(0)
		dc, err := pc.CreateDataChannel("wireguard", &webrtc.DataChannelInit{
			Ordered: &ordered, MaxRetransmits: &zero})
		if err != nil {
			die("CreateDataChannel: %v", err)
		}
		onOpen(dc)
		offer, err := pc.CreateOffer(nil)
		if err != nil {
			die("CreateOffer: %v", err)
		}
		if err := pc.SetLocalDescription(offer); err != nil {
			die("SetLocalDescription: %v", err)
		}
		sendDesc(offer)
	} else {
		pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			if dc.Label() == "wireguard" {
				onOpen(dc)
			}
		})
	}

	go func() {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			var m sigMsg
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				logf("ignoring a signaling line that is not JSON")
				continue
			}
			switch m.Type {
			case "offer":
				if *role != "answer" {
					continue
				}
				setRemote(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP})
				ans, err := pc.CreateAnswer(nil)
				if err != nil {
					die("CreateAnswer: %v", err)
				}
				if err := pc.SetLocalDescription(ans); err != nil {
					die("SetLocalDescription: %v", err)
				}
				sendDesc(ans)
			case "answer":
				if *role == "offer" {
					setRemote(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
				}
			case "candidate":
				if m.Candidate == nil {
					continue
				}
				c := webrtc.ICECandidateInit{Candidate: *m.Candidate, SDPMid: m.SDPMid,
					SDPMLineIndex: m.SDPMLineIndex}
				sigMu.Lock()
				if !remoteSet {
					pendingIn = append(pendingIn, c)
					sigMu.Unlock()
					continue
				}
				sigMu.Unlock()
				if err := pc.AddICECandidate(c); err != nil {
					logf("AddICECandidate: %v", err)
				}
			}
		}
	}()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case dc := <-opened:
		bind.setChannel(dc)
		// Up opens the Bind; the first packet from the TUN starts the handshake.
		if err := wg.Up(); err != nil {
			die("device up: %v", err)
		}
		logf("wireguard up on %s (mtu %d)", *ifname, *mtu)
	case s := <-sigs:
		logf("%v before the channel opened", s)
		wg.Close()
		pc.Close()
		os.Exit(1)
	}
	s := <-sigs
	logf("%v: shutting down; messages sent %d, received %d, receive-queue drops %d, "+
		"send-wait timeouts %d", s, bind.sent.Load(), bind.received.Load(), bind.dropped.Load(),
		bind.waitTimeouts.Load())
	wg.Close()
	pc.Close()
}
