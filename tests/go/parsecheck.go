// parsecheck: does Go's own X.509 / OCSP stack read what llave produces?
// (issue 13 item 7)
//
// Go's crypto/x509 and golang.org/x/crypto/ocsp are what zlint, Kubernetes,
// Caddy, Terraform and most cloud tooling use.  Their encoding/asn1 refuses
// OID components above 2^31-1 ("base 128 integer too large", Go 1.19), so a
// policy arc like 2.25.<128-bit UUID> makes every certificate and every OCSP
// response unreadable to them.  OpenSSL and GnuTLS accept such arcs, so only
// a Go parser catches this class of defect.
//
//	parsecheck [--roots ROOT.pem --intermediates CAS.pem] CERT...
//	    x509.ParseCertificate on each file (PEM, one or more blocks, or DER);
//	    prints subject, policies, EKUs and unhandled critical extensions.
//	    With --roots, each certificate is also verified with x509.Verify
//	    (any EKU, so the TLS-only rules are not judged here).
//	parsecheck --ocsp RESP.der --issuer CA.pem [--cert LEAF.pem] [--expect good|revoked|unknown]
//	    ocsp.ParseResponseForCert with the issuer: the signature (of the
//	    responder, or of the delegated responder certificate by the issuer)
//	    is checked; a delegated responder must carry id-kp-OCSPSigning.
//
// Exits 1 on any parse, verify or expectation failure.  Built in GOPATH mode
// against Debian's golang-golang-x-crypto-dev, no modules from the network:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run tests/go/parsecheck.go ...
package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/ocsp"
)

var failed bool

func fail(format string, a ...interface{}) {
	fmt.Printf("FAIL "+format+"\n", a...)
	failed = true
}

// readCerts parses every CERTIFICATE block of a PEM file, or one DER cert.
func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificate(data)
		return []*x509.Certificate{c}, err
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no CERTIFICATE block")
	}
	return out, nil
}

var ekuNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny: "any", x509.ExtKeyUsageServerAuth: "serverAuth",
	x509.ExtKeyUsageClientAuth: "clientAuth", x509.ExtKeyUsageCodeSigning: "codeSigning",
	x509.ExtKeyUsageEmailProtection: "emailProtection",
	x509.ExtKeyUsageTimeStamping:    "timeStamping", x509.ExtKeyUsageOCSPSigning: "OCSPSigning",
}

func ekus(c *x509.Certificate) string {
	var s []string
	for _, e := range c.ExtKeyUsage {
		if n, ok := ekuNames[e]; ok {
			s = append(s, n)
		} else {
			s = append(s, fmt.Sprint("eku", int(e)))
		}
	}
	for _, o := range c.UnknownExtKeyUsage {
		s = append(s, o.String())
	}
	return strings.Join(s, ",")
}

func checkCert(path string, opts *x509.VerifyOptions) {
	certs, err := readCerts(path)
	if err != nil {
		fail("%s: %v", path, err)
		return
	}
	for _, c := range certs {
		var pol []string
		for _, p := range c.PolicyIdentifiers {
			pol = append(pol, p.String())
		}
		fmt.Printf("cert %s: subject=%q policies=%s eku=%s ca=%v\n", path,
			c.Subject.String(), strings.Join(pol, ","), ekus(c), c.IsCA)
		for _, e := range c.UnhandledCriticalExtensions {
			fmt.Printf("     %s: unhandled critical extension %s\n", path, e)
		}
		if opts != nil {
			if _, err := c.Verify(*opts); err != nil {
				fail("%s: x509.Verify: %v", path, err)
			}
		}
	}
}

func checkOCSP(resp, issuerPath, certPath, expect string) {
	der, err := os.ReadFile(resp)
	if err != nil {
		fail("%v", err)
		return
	}
	issuers, err := readCerts(issuerPath)
	if err != nil {
		fail("%s: %v", issuerPath, err)
		return
	}
	issuer := issuers[0]
	var leaf *x509.Certificate
	if certPath != "" {
		// a leaf Go cannot read is reported; the response is still judged
		if leaves, err := readCerts(certPath); err != nil {
			fail("%s: %v", certPath, err)
		} else if leaf = leaves[0]; leaf.CheckSignatureFrom(issuer) != nil {
			fail("%s is not issued by %s", certPath, issuerPath)
		}
	}
	r, err := ocsp.ParseResponseForCert(der, leaf, issuer)
	if err != nil {
		fail("%s: %v", resp, err)
		return
	}
	status := map[int]string{ocsp.Good: "good", ocsp.Revoked: "revoked",
		ocsp.Unknown: "unknown"}[r.Status]
	signer := "issuer"
	if r.Certificate != nil && !r.Certificate.Equal(issuer) {
		signer = fmt.Sprintf("delegated %q", r.Certificate.Subject.String())
		if !strings.Contains(","+ekus(r.Certificate)+",", ",OCSPSigning,") {
			fail("%s: delegated responder lacks id-kp-OCSPSigning", resp)
		}
	}
	fmt.Printf("ocsp %s: status=%s serial=%X reason=%d signer=%s thisUpdate=%s nextUpdate=%s\n",
		resp, status, r.SerialNumber, r.RevocationReason, signer,
		r.ThisUpdate.UTC().Format("2006-01-02T15:04:05Z"),
		r.NextUpdate.UTC().Format("2006-01-02T15:04:05Z"))
	if expect != "" && expect != status {
		fail("%s: status %s, expected %s", resp, status, expect)
	}
}

func main() {
	var respPath, issuer, cert, expect, roots, inter string
	var files []string
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		dst := map[string]*string{"--ocsp": &respPath, "--issuer": &issuer,
			"--cert": &cert, "--expect": &expect, "--roots": &roots,
			"--intermediates": &inter}[args[i]]
		if dst != nil && i+1 < len(args) {
			i++
			*dst = args[i]
		} else if strings.HasPrefix(args[i], "--") {
			fmt.Fprintln(os.Stderr, "usage: parsecheck [--roots R --intermediates I] CERT... | --ocsp RESP --issuer CA [--cert LEAF] [--expect STATUS]")
			os.Exit(2)
		} else {
			files = append(files, args[i])
		}
	}
	var opts *x509.VerifyOptions
	if roots != "" {
		opts = &x509.VerifyOptions{Roots: x509.NewCertPool(),
			Intermediates: x509.NewCertPool(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
		for path, pool := range map[string]*x509.CertPool{roots: opts.Roots, inter: opts.Intermediates} {
			if path == "" {
				continue
			}
			cs, err := readCerts(path)
			if err != nil {
				fail("%s: %v", path, err)
			}
			for _, c := range cs {
				pool.AddCert(c)
			}
		}
	}
	if respPath != "" {
		if issuer == "" {
			fmt.Fprintln(os.Stderr, "--ocsp needs --issuer")
			os.Exit(2)
		}
		checkOCSP(respPath, issuer, cert, expect)
	}
	for _, f := range files {
		checkCert(f, opts)
	}
	if failed {
		os.Exit(1)
	}
}
