// pion-peer: the pion/webrtc v4 side of the riftgate test-peer contract
// (tests/interop/PROTOCOL.md). Signaling is JSON lines on stdin/stdout; logs go to stderr.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

type sigMsg struct {
	Type          string  `json:"type"`
	SDP           string  `json:"sdp,omitempty"`
	Candidate     *string `json:"candidate,omitempty"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
}

type options struct {
	role    string
	iceAddr string
	stun    string
	label   string
	ordered int
	maxRetx int
	count   int
	size    int
	bench   float64
	timeout float64
}

var (
	pairMu   sync.Mutex
	pairType = "none" // remote candidate type of the selected pair
	outMu    sync.Mutex
	start    = time.Now()
	logOn    = os.Getenv("RG_PEER_QUIET") == ""
	doneMu   sync.Mutex
	done     bool
)

func logf(format string, a ...any) {
	if logOn {
		fmt.Fprintf(os.Stderr, "pion-peer[%6.3f] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}
}

func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

// finish prints the single result line once and exits after grace.
func finish(res map[string]any, grace time.Duration) {
	doneMu.Lock()
	if done {
		doneMu.Unlock()
		return
	}
	done = true
	doneMu.Unlock()
	if _, ok := res["pair"]; !ok {
		pairMu.Lock()
		res["pair"] = pairType
		pairMu.Unlock()
	}
	emit(res)
	code := 0
	if ok, _ := res["ok"].(bool); !ok {
		code = 1
		logf("FAIL: %v", res["error"])
	}
	time.Sleep(grace)
	os.Exit(code)
}

func fail(format string, a ...any) {
	finish(map[string]any{"type": "result", "ok": false, "error": fmt.Sprintf(format, a...)}, 200*time.Millisecond)
}

func payload(role string, i, size int) []byte {
	p := fmt.Sprintf("%s-%d", role, i)
	n := size
	if n < len(p) {
		n = len(p)
	}
	b := make([]byte, n)
	for k := range b {
		b[k] = '.'
	}
	copy(b, p)
	return b
}

// parseIndex returns i for a message "<role>-<i>..." of the expected length, or -1.
func parseIndex(b []byte, role string, size int) int {
	pre := role + "-"
	if !strings.HasPrefix(string(b[:min(len(b), len(pre))]), pre) {
		return -1
	}
	j := len(pre)
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	i, err := strconv.Atoi(string(b[len(pre):j]))
	if err != nil {
		return -1
	}
	want := size
	if want < j {
		want = j
	}
	if len(b) != want {
		return -1
	}
	return i
}

func main() {
	var o options
	flag.StringVar(&o.role, "role", "", "offer|answer")
	flag.StringVar(&o.iceAddr, "ice-addr", "127.0.0.1", "only local address used for ICE")
	flag.StringVar(&o.stun, "stun", "", "STUN server URL (none by default)")
	flag.StringVar(&o.label, "label", "wireguard", "data channel label (offerer)")
	flag.IntVar(&o.ordered, "ordered", 0, "ordered channel 0|1 (offerer)")
	flag.IntVar(&o.maxRetx, "max-retransmits", 0, "maxRetransmits, -1 = reliable (offerer)")
	flag.IntVar(&o.count, "count", 10, "messages each side sends")
	flag.IntVar(&o.size, "size", 64, "message size in bytes")
	flag.Float64Var(&o.bench, "bench", 0, "bench for SECONDS instead of exchanging --count messages")
	flag.Float64Var(&o.timeout, "timeout", 20, "overall timeout in seconds")
	flag.Parse()
	if o.role != "offer" && o.role != "answer" {
		fmt.Fprintln(os.Stderr, "usage: pion-peer --role offer|answer [options]")
		os.Exit(2)
	}
	peerRole := map[string]string{"offer": "answer", "answer": "offer"}[o.role]

	time.AfterFunc(time.Duration(o.timeout*float64(time.Second)), func() {
		fail("timeout after %.1f s", o.timeout)
	})

	addr := net.ParseIP(o.iceAddr)
	if addr == nil {
		fail("bad --ice-addr %q", o.iceAddr)
		return
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(addr) })
	if addr.To4() != nil {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP6})
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	cfg := webrtc.Configuration{}
	if o.stun != "" {
		cfg.ICEServers = []webrtc.ICEServer{{URLs: []string{o.stun}}}
	}
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		fail("NewPeerConnection: %v", err)
		return
	}

	// Candidates are printed only after our description line.
	var candMu sync.Mutex
	descSent := false
	var pendingOut []sigMsg
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		var m sigMsg
		if c == nil {
			m = sigMsg{Type: "end-of-candidates"}
		} else {
			j := c.ToJSON()
			mid, idx := "0", uint16(0)
			m = sigMsg{Type: "candidate", Candidate: &j.Candidate, SDPMid: &mid, SDPMLineIndex: &idx}
			logf("local candidate %s", j.Candidate)
		}
		candMu.Lock()
		defer candMu.Unlock()
		if !descSent {
			pendingOut = append(pendingOut, m)
			return
		}
		emit(m)
	})
	sendDesc := func(d *webrtc.SessionDescription) {
		candMu.Lock()
		defer candMu.Unlock()
		// Candidates travel only as candidate lines (the relay may withhold them), so none may
		// ride along in the description: pion adds those already gathered to it.
		var kept []string
		for _, l := range strings.Split(d.SDP, "\r\n") {
			if !strings.HasPrefix(l, "a=candidate:") && !strings.HasPrefix(l, "a=end-of-candidates") {
				kept = append(kept, l)
			}
		}
		emit(sigMsg{Type: d.Type.String(), SDP: strings.Join(kept, "\r\n")})
		descSent = true
		for _, m := range pendingOut {
			emit(m)
		}
		pendingOut = nil
	}
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		logf("ICE %s", s)
		if s == webrtc.ICEConnectionStateFailed {
			fail("ICE failed")
		}
	})
	pc.SCTP().Transport().ICETransport().OnSelectedCandidatePairChange(func(p *webrtc.ICECandidatePair) {
		pairMu.Lock()
		pairType = p.Remote.Typ.String()
		pairMu.Unlock()
		logf("selected pair local %s %s:%d remote %s %s:%d", p.Local.Typ, p.Local.Address, p.Local.Port,
			p.Remote.Typ, p.Remote.Address, p.Remote.Port)
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		logf("connection %s", s)
		if s == webrtc.PeerConnectionStateFailed {
			fail("peer connection failed")
		}
	})

	var openOnce sync.Once
	setup := func(dc *webrtc.DataChannel) {
		var mu sync.Mutex
		seen := make(map[int]bool)
		var sent int
		var rxMsgs, rxBytes int64
		var first, last time.Time
		allReceived := make(chan struct{})
		var allOnce sync.Once

		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			mu.Lock()
			defer mu.Unlock()
			now := time.Now()
			if rxMsgs == 0 {
				first = now
			}
			last = now
			rxMsgs++
			rxBytes += int64(len(m.Data))
			if o.bench > 0 {
				return
			}
			i := parseIndex(m.Data, peerRole, o.size)
			if i < 0 || i >= o.count {
				go fail("unexpected message (%d bytes) starting %q", len(m.Data), string(m.Data[:min(len(m.Data), 24)]))
				return
			}
			if seen[i] {
				go fail("duplicate message %d", i)
				return
			}
			seen[i] = true
			if len(seen) == o.count {
				allOnce.Do(func() { close(allReceived) })
			}
		})
		dc.OnOpen(func() {
			openOnce.Do(func() {
				msOpen := time.Since(start).Milliseconds()
				id := -1
				if p := dc.ID(); p != nil {
					id = int(*p)
				}
				logf("channel %q open (id %d, ordered %v) after %d ms", dc.Label(), id, dc.Ordered(), msOpen)
				go func() {
					if o.bench > 0 {
						runBench(o, dc, msOpen, &mu, &rxMsgs, &rxBytes, &first, &last)
						return
					}
					for i := 0; i < o.count; i++ {
						if err := dc.Send(payload(o.role, i, o.size)); err != nil {
							fail("send %d: %v", i, err)
							return
						}
						sent++
					}
					<-allReceived
					// Let our own messages drain before the result (the other side may still need them).
					drainDeadline := time.Now().Add(3 * time.Second)
					for dc.BufferedAmount() > 0 && time.Now().Before(drainDeadline) {
						time.Sleep(10 * time.Millisecond)
					}
					mu.Lock()
					n := len(seen)
					mu.Unlock()
					finish(map[string]any{"type": "result", "ok": true, "role": o.role, "sent": sent,
						"received": n, "ms_to_open": msOpen, "label": dc.Label(), "ordered": dc.Ordered()}, 1500*time.Millisecond)
				}()
			})
		})
	}

	if o.role == "offer" {
		init := &webrtc.DataChannelInit{}
		ord := o.ordered != 0
		init.Ordered = &ord
		if o.maxRetx >= 0 {
			mr := uint16(o.maxRetx)
			init.MaxRetransmits = &mr
		}
		dc, err := pc.CreateDataChannel(o.label, init)
		if err != nil {
			fail("CreateDataChannel: %v", err)
			return
		}
		setup(dc)
		offer, err := pc.CreateOffer(nil)
		if err != nil {
			fail("CreateOffer: %v", err)
			return
		}
		if err := pc.SetLocalDescription(offer); err != nil {
			fail("SetLocalDescription: %v", err)
			return
		}
		sendDesc(pc.LocalDescription())
	} else {
		pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			logf("remote opened channel %q", dc.Label())
			setup(dc)
		})
	}

	// Signaling reader.
	var pendingIn []webrtc.ICECandidateInit
	haveRemote := false
	addCand := func(c webrtc.ICECandidateInit) {
		if err := pc.AddICECandidate(c); err != nil {
			logf("AddICECandidate(%s): %v", c.Candidate, err)
		}
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var m sigMsg
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			logf("ignoring non-JSON line: %.60s", line)
			continue
		}
		switch m.Type {
		case "offer", "answer":
			t := webrtc.SDPTypeOffer
			if m.Type == "answer" {
				t = webrtc.SDPTypeAnswer
			}
			if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: t, SDP: m.SDP}); err != nil {
				fail("SetRemoteDescription(%s): %v", m.Type, err)
				return
			}
			haveRemote = true
			for _, c := range pendingIn {
				addCand(c)
			}
			pendingIn = nil
			if t == webrtc.SDPTypeOffer {
				ans, err := pc.CreateAnswer(nil)
				if err != nil {
					fail("CreateAnswer: %v", err)
					return
				}
				if err := pc.SetLocalDescription(ans); err != nil {
					fail("SetLocalDescription: %v", err)
					return
				}
				sendDesc(pc.LocalDescription())
			}
		case "candidate":
			if m.Candidate == nil || *m.Candidate == "" {
				continue
			}
			logf("remote candidate %s", *m.Candidate)
			c := webrtc.ICECandidateInit{Candidate: *m.Candidate, SDPMid: m.SDPMid, SDPMLineIndex: m.SDPMLineIndex}
			if c.SDPMid == nil && c.SDPMLineIndex == nil {
				z := uint16(0)
				c.SDPMLineIndex = &z
			}
			if !haveRemote {
				pendingIn = append(pendingIn, c)
			} else {
				addCand(c)
			}
		case "end-of-candidates", "result":
		default:
			logf("ignoring message type %q", m.Type)
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		logf("stdin: %v", err)
	}
	// stdin closed: keep running until the result or the timeout.
	select {}
}

// runBench: the offerer sends as fast as the channel accepts for o.bench seconds; the answerer
// counts until the channel closes, 1 s passes without a message, or o.bench+5 s after the first one.
func runBench(o options, dc *webrtc.DataChannel, msOpen int64, mu *sync.Mutex, rxMsgs, rxBytes *int64, first, last *time.Time) {
	dur := time.Duration(o.bench * float64(time.Second))
	if o.role == "offer" {
		const high, low = 4 << 20, 1 << 20
		lowCh := make(chan struct{}, 1)
		dc.SetBufferedAmountLowThreshold(low)
		dc.OnBufferedAmountLow(func() {
			select {
			case lowCh <- struct{}{}:
			default:
			}
		})
		msg := payload(o.role, 0, o.size)
		var n, bytes int64
		t0 := time.Now()
		end := t0.Add(dur)
		for time.Now().Before(end) {
			if dc.BufferedAmount() >= high {
				select {
				case <-lowCh:
				case <-time.After(50 * time.Millisecond):
				}
				continue
			}
			for k := 0; k < 64; k++ {
				if err := dc.Send(msg); err != nil {
					fail("bench send: %v", err)
					return
				}
				n++
				bytes += int64(len(msg))
			}
		}
		secs := time.Since(t0).Seconds()
		drain := time.Now().Add(5 * time.Second)
		for dc.BufferedAmount() > 0 && time.Now().Before(drain) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		dc.Close()
		finish(map[string]any{"type": "result", "ok": n > 0, "role": o.role, "sent": n, "received": 0,
			"ms_to_open": msOpen, "bench": map[string]any{"messages": n, "bytes": bytes, "seconds": secs},
			"error": errIf(n == 0, "nothing sent")}, 500*time.Millisecond)
		return
	}
	closed := make(chan struct{})
	dc.OnClose(func() { close(closed) })
	opened := time.Now()
	for {
		select {
		case <-closed:
		case <-time.After(20 * time.Millisecond):
			mu.Lock()
			n, f, l := *rxMsgs, *first, *last
			mu.Unlock()
			now := time.Now()
			if n == 0 && now.Sub(opened) < dur+5*time.Second {
				continue
			}
			if n > 0 && now.Sub(l) < time.Second && now.Sub(f) < dur+5*time.Second {
				continue
			}
		}
		break
	}
	mu.Lock()
	n, b, f, l := *rxMsgs, *rxBytes, *first, *last
	mu.Unlock()
	secs := l.Sub(f).Seconds()
	finish(map[string]any{"type": "result", "ok": n > 0, "role": o.role, "sent": 0, "received": n,
		"ms_to_open": msOpen, "bench": map[string]any{"messages": n, "bytes": b, "seconds": secs},
		"error": errIf(n == 0, "nothing received")}, 200*time.Millisecond)
}

func errIf(c bool, s string) any {
	if c {
		return s
	}
	return nil
}
