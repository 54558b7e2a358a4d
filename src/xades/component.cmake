# xades/ (issue 14 item 5): XAdES signatures, ETSI EN 319 132-1.  Pure: no
# store, no key.  libxml2 parses and canonicalizes, OpenSSL (through core)
# hashes and encodes; the signature and the time-stamp come from callbacks.
# xmlsec1 is not linked: it signs only with a key it holds, so it is the
# tests' independent verifier (the xmlsec1 command) instead.
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)
llave_component(xades)
llave_uses(xades PUBLIC lv_core PRIVATE PkgConfig::LIBXML2)
