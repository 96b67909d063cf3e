// Command gen writes known-answer vectors for riftgate's WireGuard core from an independent
// implementation of the handshake built on golang.org/x/crypto (blake2s, chacha20poly1305,
// curve25519), following the WireGuard whitepaper §5.4 directly. All inputs are fixed, so the
// output is deterministic; tests/wg/test-wg-vectors.c checks our core byte for byte.
//
//	go run . > ../vectors.h
package main

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/blake2s"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/curve25519"
)

const (
	construction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
	identifier   = "WireGuard v1 zx2c4 Jason@zx2c4.com"
	labelMac1    = "mac1----"
	labelCookie  = "cookie--"
)

func seq(start byte) (k [32]byte) {
	for i := range k {
		k[i] = start + byte(i)
	}
	return
}

func hashOf(parts ...[]byte) (out [32]byte) {
	h, _ := blake2s.New256(nil)
	for _, p := range parts {
		h.Write(p)
	}
	copy(out[:], h.Sum(nil))
	return
}

func hmacB2s(key, in []byte) (out [32]byte) {
	m := hmac.New(func() hash.Hash { h, _ := blake2s.New256(nil); return h }, key)
	m.Write(in)
	copy(out[:], m.Sum(nil))
	return
}

// kdf returns KDF_n(key, input) for n = 3 (callers take what they need).
func kdf(key, in []byte) (t1, t2, t3 [32]byte) {
	prk := hmacB2s(key, in)
	t1 = hmacB2s(prk[:], []byte{1})
	t2 = hmacB2s(prk[:], append(t1[:], 2))
	t3 = hmacB2s(prk[:], append(t2[:], 3))
	return
}

func mac(key []byte, n int, in []byte) []byte {
	var h hash.Hash
	var err error
	if n == 16 {
		h, err = blake2s.New128(key)
	} else {
		h, err = blake2s.New256(key)
	}
	if err != nil {
		panic(err)
	}
	h.Write(in)
	return h.Sum(nil)
}

func dh(priv, pub [32]byte) [32]byte {
	out, err := curve25519.X25519(priv[:], pub[:])
	if err != nil {
		panic(err)
	}
	var r [32]byte
	copy(r[:], out)
	return r
}

func pubOf(priv [32]byte) [32]byte {
	out, _ := curve25519.X25519(priv[:], curve25519.Basepoint)
	var r [32]byte
	copy(r[:], out)
	return r
}

func seal(key [32]byte, counter uint64, plain, ad []byte) []byte {
	a, _ := chacha20poly1305.New(key[:])
	var nonce [12]byte
	binary.LittleEndian.PutUint64(nonce[4:], counter)
	return a.Seal(nil, nonce[:], plain, ad)
}

func tai64n(sec int64, nsec uint32) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint64(b, uint64(0x400000000000000a+sec))
	binary.BigEndian.PutUint32(b[8:], nsec)
	return b
}

func le32(v uint32) []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, v)
	return b
}

type out struct{ lines []string }

func (o *out) put(name string, b []byte) {
	o.lines = append(o.lines, fmt.Sprintf("#define VEC_%s \\\n\t\"%x\"", strings.ToUpper(name), b))
}

// handshake runs one full handshake and the first data message each way.
func handshake(o *out, prefix string, psk [32]byte) {
	iPriv, rPriv := seq(0x10), seq(0x40)
	iEph, rEph := seq(0x70), seq(0xa0)
	iPub, rPub := pubOf(iPriv), pubOf(rPriv)
	const iIndex, rIndex = 0x11223344, 0x55667788

	// Initiator: message 1.
	ck := hashOf([]byte(construction))
	h := hashOf(ck[:], []byte(identifier))
	h = hashOf(h[:], rPub[:])
	iEphPub := pubOf(iEph)
	ck, _, _ = kdf(ck[:], iEphPub[:])
	h = hashOf(h[:], iEphPub[:])
	es := dh(iEph, rPub)
	ck, k, _ := kdf(ck[:], es[:])
	encStatic := seal(k, 0, iPub[:], h[:])
	h = hashOf(h[:], encStatic)
	ss := dh(iPriv, rPub)
	ck, k, _ = kdf(ck[:], ss[:])
	encTs := seal(k, 0, tai64n(1700000000, 0x3000000), h[:])
	h = hashOf(h[:], encTs)

	msg1 := append(le32(1), le32(iIndex)...)
	msg1 = append(msg1, iEphPub[:]...)
	msg1 = append(msg1, encStatic...)
	msg1 = append(msg1, encTs...)
	mac1Key := hashOf([]byte(labelMac1), rPub[:])
	msg1 = append(msg1, mac(mac1Key[:], 16, msg1)...)
	msg1 = append(msg1, make([]byte, 16)...)

	// Responder: message 2.
	rEphPub := pubOf(rEph)
	ck, _, _ = kdf(ck[:], rEphPub[:])
	h = hashOf(h[:], rEphPub[:])
	ee := dh(rEph, iEphPub)
	ck, _, _ = kdf(ck[:], ee[:])
	se := dh(rEph, iPub)
	ck, _, _ = kdf(ck[:], se[:])
	ck, tau, k := kdf(ck[:], psk[:])
	h = hashOf(h[:], tau[:])
	encNothing := seal(k, 0, nil, h[:])

	msg2 := append(le32(2), le32(rIndex)...)
	msg2 = append(msg2, le32(iIndex)...)
	msg2 = append(msg2, rEphPub[:]...)
	msg2 = append(msg2, encNothing...)
	mac1KeyI := hashOf([]byte(labelMac1), iPub[:])
	msg2 = append(msg2, mac(mac1KeyI[:], 16, msg2)...)
	msg2 = append(msg2, make([]byte, 16)...)

	// Transport keys: initiator sends with T1, responder with T2.
	t1, t2, _ := kdf(ck[:], nil)
	plain := make([]byte, 64) // 60-byte packet padded to 64
	for i := 0; i < 60; i++ {
		plain[i] = byte(i * 3)
	}
	data1 := append(le32(4), le32(rIndex)...)
	data1 = append(data1, make([]byte, 8)...)
	data1 = append(data1, seal(t1, 0, plain, nil)...)
	data2 := append(le32(4), le32(iIndex)...)
	data2 = append(data2, make([]byte, 8)...)
	data2 = append(data2, seal(t2, 0, nil, nil)...) // keepalive
	o.put(prefix+"initiation", msg1)
	o.put(prefix+"response", msg2)
	o.put(prefix+"data_i2r", data1)
	o.put(prefix+"keepalive_r2i", data2)

	if prefix != "" {
		return
	}
	// Cookie reply to message 1 from a source endpoint, then message 1 stamped with mac2.
	secret := seq(0x33)
	var nonce [24]byte
	for i := range nonce {
		nonce[i] = 0xc0 + byte(i)
	}
	ep := []byte("endpoint-bytes-0")
	cookie := mac(secret[:], 16, ep)
	encKey := hashOf([]byte(labelCookie), rPub[:])
	x, _ := chacha20poly1305.NewX(encKey[:])
	reply := append(le32(3), le32(iIndex)...)
	reply = append(reply, nonce[:]...)
	reply = append(reply, x.Seal(nil, nonce[:], cookie, msg1[116:132])...)
	withMac2 := append([]byte{}, msg1[:132]...)
	withMac2 = append(withMac2, mac(cookie, 16, withMac2)...)
	o.put("cookie_reply", reply)
	o.put("initiation_mac2", withMac2)
}

func main() {
	o := &out{}
	handshake(o, "", [32]byte{})
	handshake(o, "psk_", seq(0xd0))
	fmt.Println("/* Generated by tests/wg/vectors/gen.go (go run . > ../vectors.h); do not edit. */")
	for _, l := range o.lines {
		fmt.Println(l)
	}
}
