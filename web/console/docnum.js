// Spanish identity document numbers as the registration officer types them
// (the same rules ra/ applies again on the server, src/ra/validate.c):
// DNI: 8 digits and a check letter; NIE (and the TIE and EU registration
// certificate, which carry the NIE): X, Y or Z, 7 digits and a check
// letter, X/Y/Z counting as 0/1/2.  The letter is the number modulo 23 in
// TRWAGMYFPDXBNJZSQVHLCKE (Real Decreto 1553/2005, Orden INT/2058/2008).
const LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

const SHAPES = {
  DNI: { full: /^[0-9]{8}[A-Z]$/, prefix: /^[0-9]{0,8}$|^[0-9]{8}[A-Z]$/ },
  NIE: { full: /^[XYZ][0-9]{7}[A-Z]$/, prefix: /^$|^[XYZ][0-9]{0,7}$|^[XYZ][0-9]{7}[A-Z]$/ },
};

function shape(type) {
  return type === 'DNI' ? SHAPES.DNI : SHAPES.NIE;
}

export function normalize(number) {
  return (number || '').trim().toUpperCase();
}

export function checkLetter(digits) {
  return LETTERS[Number(digits) % 23];
}

// The state of what has been typed so far:
//   'empty'      nothing yet
//   'typing'     a beginning of a valid number: no verdict yet
//   'format'     cannot become a number of this type
//   'incomplete' the number ends too early (judged on leaving the field)
//   'letter'     complete, but the check letter does not match
//   'ok'         complete and right
// The expected letter is never revealed: an officer who copies it would
// register a mistyped number as valid.
export function judge(type, typed, final) {
  const n = normalize(typed);
  const s = shape(type);
  if (n === '') return 'empty';
  if (s.full.test(n)) {
    const digits = type === 'DNI' ? n.slice(0, 8)
      : String('XYZ'.indexOf(n[0])) + n.slice(1, 8);
    return checkLetter(digits) === n[8] ? 'ok' : 'letter';
  }
  if (!s.prefix.test(n)) return 'format';
  return final ? 'incomplete' : 'typing';
}
