# pades/ (issue 14 item 4): PAdES signatures (ETSI EN 319 142-1).  Pure: no
# store, no key; qpdf parses the PDF (libqpdf-dev, Debian's qpdf 11).
pkg_check_modules(QPDF REQUIRED IMPORTED_TARGET libqpdf>=11)
llave_component(pades)
llave_uses(pades PUBLIC lv_core PRIVATE PkgConfig::QPDF)
