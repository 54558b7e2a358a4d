"""Issue 15 items 1 and 2: the landing page at / and the repository index in
the same look, Spanish first, against a real llaved.

  - the language: Accept-Language (q-values, primary subtag, Spanish when
    nothing we have is asked for), the visible switch (?lang=) and the
    cookie it sets, `lang` on <html>, Vary;
  - the catalogues web/i18n/*.json: the same keys in every language, every
    key the C sources ask for present, Spanish with its accents;
  - the pages: one h1, headings in order, a skip link to <main>, landmarks,
    the current page marked, table headers with scope, no script, the strict
    CSP; every link on them answers 200 from this server;
  - the repository shows names as RFC 4514 and its JSON is unchanged."""
import glob
import html.parser
import json
import os
import re
import urllib.request

from lvtest import SOURCE, Server, check, cleanup, demo_install, finish, \
    workdir


class Page(html.parser.HTMLParser):
    """What the checks need from a page: tags in order, attributes, links."""

    def __init__(self):
        super().__init__()
        self.tags, self.links, self.ids, self.text = [], [], set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"])

    def handle_data(self, data):
        self.text.append(data)


def get(srv, path, headers=None):
    req = urllib.request.Request(srv.url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def parse(body):
    p = Page()
    p.feed(body.decode())
    return p


def lang_of(p):
    return next((a.get("lang") for t, a in p.tags if t == "html"), None)


def check_negotiation(srv):
    cases = [("es-ES,es;q=0.9", "es"), ("en-GB,en;q=0.9,es;q=0.5", "en"),
             ("fr-FR, de;q=0.8", "es"), ("en;q=0.2, es;q=0.8", "es"),
             ("EN-us", "en"), ("*", "es"), ("en;q=0, es;q=0.1", "es"),
             (None, "es")]
    for accept, want in cases:
        hdr = {"Accept-Language": accept} if accept else {}
        st, h, body = get(srv, "/", hdr)
        check(st == 200 and lang_of(parse(body)) == want,
              f"Accept-Language {accept!r}: <html lang=\"{want}\"> "
              f"({st}, {lang_of(parse(body))})")
    st, h, body = get(srv, "/?lang=en", {"Accept-Language": "es"})
    cookie = h.get("Set-Cookie", "")
    check(st == 200 and lang_of(parse(body)) == "en" and
          cookie.startswith("llave_lang=en;") and "SameSite=Lax" in cookie,
          f"the switch ?lang=en wins over Accept-Language and is kept in a "
          f"cookie ({cookie})")
    st, h, body = get(srv, "/repository/", {"Cookie": "a=1; llave_lang=en",
                                            "Accept-Language": "es"})
    check(lang_of(parse(body)) == "en" and "Set-Cookie" not in h,
          "the cookie keeps the choice on the next page")
    st, h, body = get(srv, "/?lang=xx", {"Cookie": "llave_lang=zz"})
    check(st == 200 and lang_of(parse(body)) == "es" and "Set-Cookie" not in h,
          "an unknown ?lang= or cookie is ignored: Spanish, nothing kept")
    check("Accept-Language" in h.get("Vary", "") and
          "Cookie" in h.get("Vary", ""),
          f"Vary names what chose the language ({h.get('Vary')})")


def check_api_messages(srv):
    """Issue 15 item 1: API errors keep their stable code; the message is
    the catalogue's in the language the request names, the technical
    reason moves to "detail"; with no language named, nothing changes."""
    path = "/api/v1/transactions/" + "0" * 32 + "/view"
    cases = [({"Accept-Language": "es-ES"}, "Hace falta identificarse"),
             ({"Accept-Language": "en-GB"}, "You must identify yourself"),
             ({"Cookie": "llave_lang=en"}, "You must identify yourself")]
    for hdr, want in cases:
        st, h, body = get(srv, path, hdr)
        o = json.loads(body)
        check(st == 401 and o.get("error") == "unauthorized" and
              o.get("message", "").startswith(want) and o.get("detail") and
              "Accept-Language" in h.get("Vary", ""),
              f"{hdr}: 401 unauthorized, message {o.get('message')!r}, "
              f"detail {o.get('detail')!r}")
    st, h, body = get(srv, path)
    o = json.loads(body)
    check(st == 401 and o.get("error") == "unauthorized" and
          "detail" not in o and o.get("message") and
          not o["message"].startswith("Hace falta"),
          f"no language named: the technical message as before ({o})")
    st, h, body = get(srv, "/api/v1/nothing", {"Accept-Language": "es"})
    o = json.loads(body)
    check(st == 404 and o.get("error") == "not_found" and
          o.get("message") == "No existe." and "/api/v1/nothing" in
          o.get("detail", ""), f"the router's 404 in Spanish ({o})")


def catalogues():
    cats = {}
    for f in sorted(glob.glob(os.path.join(SOURCE, "web", "i18n", "*.json"))):
        with open(f, encoding="utf-8") as fh:
            cats[os.path.basename(f)[:-5]] = json.load(fh)
    return cats


def keys_in_source():
    keys = set()
    for f in glob.glob(os.path.join(SOURCE, "src", "http", "*.c")):
        with open(f, encoding="utf-8") as fh:
            src = fh.read()
        keys |= set(re.findall(r'http_text\([^,]+,\s*"([a-z0-9_.]+)"\)', src))
        keys |= set(re.findall(r'"(home\.[a-z0-9_.]+|repo\.[a-z0-9_.]+)"',
                               src))
        for cols in re.findall(r'_cols\[\] = \{([^}]*)\}', src):
            keys |= {"col." + c for c in re.findall(r'"([a-z0-9_]+)"', cols)}
    return keys


def check_catalogues():
    cats = catalogues()
    check(set(cats) >= {"es", "en"}, f"catalogues: {sorted(cats)}")
    es = set(cats["es"])
    for code, texts in cats.items():
        check(set(texts) == es and all(isinstance(v, str) and v.strip()
                                       for v in texts.values()),
              f"{code}.json has exactly Spanish's {len(es)} keys, none empty")
    used = keys_in_source()
    check(used and used <= es,
          f"every one of the {len(used)} keys the sources use is in the "
          f"catalogues (missing: {sorted(used - es)})")
    check("electrónica" in cats["es"]["home.title"] and
          "Índice" in cats["es"]["home.repo.index"],
          "Spanish is written with its accents")


def check_structure(srv, path, lang, here):
    st, h, body = get(srv, path + f"?lang={lang}")
    p = parse(body)
    tags = [t for t, _ in p.tags]
    heads = [int(t[1]) for t in tags if re.fullmatch(r"h[1-6]", t)]
    check(st == 200 and h.get("Content-Type", "").startswith("text/html") and
          lang_of(p) == lang, f"{path} ({lang}): 200 HTML, lang={lang}")
    check(heads.count(1) == 1 and heads[0] == 1 and
          all(b - a <= 1 for a, b in zip(heads, heads[1:])),
          f"{path}: one h1 first, no heading level skipped ({heads})")
    skip = next((a for t, a in p.tags if t == "a"), {})
    check(skip.get("href") == "#main" and "main" in p.ids and
          {"header", "nav", "main", "footer"} <= set(tags),
          f"{path}: the first link skips to <main>; header, nav, main, footer")
    current = [a.get("href") for t, a in p.tags
               if t == "a" and a.get("aria-current") == "page"]
    check(current == [here], f"{path}: the navigation marks it current "
                             f"({current})")
    ths = [a for t, a in p.tags if t == "th"]
    check(all(a.get("scope") == "col" for a in ths),
          f"{path}: {len(ths)} table headers, each with scope")
    other = "en" if lang == "es" else "es"
    switch = [a for t, a in p.tags if t == "a" and a.get("hreflang") == other]
    check(switch and switch[0].get("lang") == other and
          switch[0].get("href") == f"?lang={other}",
          f"{path}: a visible switch to {other}, named in {other}")
    csp = h.get("Content-Security-Policy", "")
    check("script" not in tags and "script-src" not in csp and
          "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and
          h.get("X-Content-Type-Options") == "nosniff",
          f"{path}: no script, CSP {csp!r}, nosniff")
    return p


def check_links(srv, d, pages):
    with open(os.path.join(d, "llave.json")) as f:
        public = json.load(f).get("public_url", "http://127.0.0.1:8080")
    links = sorted({link for p in pages for link in p.links
                    if not link.startswith(("#", "?"))})
    bad = []
    for link in links:
        path = link[len(public):] if link.startswith(public) else link
        st, _, _ = get(srv, path)
        if st != 200:
            bad.append((link, st))
    check(len(links) >= 15 and not bad,
          f"all {len(links)} links of / and /repository/ answer 200 here "
          f"({bad})")


def check_repository(srv):
    st, _, body = get(srv, "/repository/")
    text = body.decode()
    check("CN=llave Root CA,organizationIdentifier=" in text and
          "/CN=" not in text,
          "the repository shows CA names as RFC 4514, not OpenSSL's slashes")
    st, h, body = get(srv, "/repository/?format=json")
    o = json.loads(body)
    check(st == 200 and h.get("Content-Type") == "application/json" and
          {"provider", "ca_certificates", "crls", "documents",
           "certificates"} <= set(o) and
          o["ca_certificates"][0]["subject"].startswith("CN="),
          "the JSON index keeps its fields")
    st, h, body = get(srv, "/web/site/site.css")
    check(st == 200 and h.get("Content-Type", "").startswith("text/css"),
          "the style sheet is served")
    st, h, body = get(srv, "/web/site/nothing.css")
    check(st == 404, f"an unknown asset: 404 ({st})")
    st, h, body = get(srv, "/web/site/..%2fi18n%2fes.json")
    check(st == 404, f"no way out of web/site/ ({st})")


def main():
    tmp = workdir("site")
    srv = None
    try:
        d, _ = demo_install(tmp)
        srv = Server(d)
        check_catalogues()
        check_negotiation(srv)
        check_api_messages(srv)
        pages = [check_structure(srv, "/", lang, "/") for lang in ("es", "en")]
        pages += [check_structure(srv, "/repository/", lang, "/repository/")
                  for lang in ("es", "en")]
        check_links(srv, d, pages)
        check_repository(srv)
        check(srv.stop() == 0, "llaved stopped cleanly")
        srv = None
    finally:
        if srv:
            srv.stop()
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
