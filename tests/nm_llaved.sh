#!/bin/sh
# Issue 12 item 2: llaved links no key code.  Fails when the binary holds
# any symbol of src/keys/ (keys_*), of the custodian-share library
# (gfshare_*) or of OpenSSL key generation: every key is made, opened and
# used inside llave-keyd, reached through keyc.
set -eu
bin=${1:?usage: nm_llaved.sh path/to/llaved}
syms=$(nm "$bin" 2>/dev/null; nm -D "$bin" 2>/dev/null) || true
[ -n "$syms" ] || { echo "nm found no symbols in $bin"; exit 1; }
bad=$(printf '%s\n' "$syms" |
      grep -E '[[:space:]](keys_[A-Za-z0-9_]+|gfshare_[A-Za-z0-9_]+|EVP_PKEY_(Q_)?keygen(_init)?|EVP_PKEY_generate|RSA_generate_key(_ex)?|EC_KEY_generate_key)(@|$)' |
      sort -u || true)
if [ -n "$bad" ]; then
    echo "llaved links key code it must not (issue 12):"
    printf '%s\n' "$bad"
    exit 1
fi
echo "llaved: no keys_*, gfshare_* or key-generation symbol"
echo "1 passed, 0 failed"
