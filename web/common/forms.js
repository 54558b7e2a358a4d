// Forms do nothing until the page that owns them is ready.  A page fetches
// its catalogues before it attaches its handlers; a form sent in that
// moment (a quick Enter on a slow line) was lost: the page's policy
// (form-action 'none') forbids the browser to send it itself, so nothing
// happened at all.  Now it is held and sent once the handlers are there.
// Every <form> also says method="post": should a proxy drop that policy,
// a form sent before any script ran would still never put the user id and
// password in a URL.
//
//   const release = holdForms();   // first thing a page's module does
//   ... await catalogues, attach the submit handlers ...
//   release();                      // a form held meanwhile is sent now
//
// A page that never becomes usable (a closed transaction) never releases:
// its forms stay inert.
export function holdForms() {
  let held = null;
  const hold = (ev) => {
    ev.preventDefault();
    ev.stopImmediatePropagation();
    held = ev.target;
  };
  document.addEventListener('submit', hold, true);
  return () => {
    document.removeEventListener('submit', hold, true);
    const form = held;
    held = null;
    if (form && form.isConnected) form.requestSubmit();
  };
}
