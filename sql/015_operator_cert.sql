-- 015_operator_cert: operators' client certificates (issue 17 item 4, CPS
-- §5.2.3).  An operator may log in over llaved's https with a certificate
-- our CA issued, as a second way beside password + TOTP; a security
-- officer binds it to the account (`llave operator cert`), which this table
-- records.  fingerprint is the SHA-256 of the certificate's DER in lower
-- hex: the binding names one certificate, not a subject that a later
-- certificate could carry again.  Revocation and expiry are judged at each
-- login against the certificates table, not copied here.
CREATE TABLE operator_certificates (
    fingerprint TEXT PRIMARY KEY CHECK (length(fingerprint) = 64),
    login TEXT NOT NULL REFERENCES operators (login),
    serial TEXT NOT NULL,
    subject TEXT NOT NULL,
    not_after BIGINT NOT NULL,
    bound_at BIGINT NOT NULL,
    bound_by TEXT NOT NULL
);
CREATE INDEX operator_certificates_login ON operator_certificates (login);
