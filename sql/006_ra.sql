-- 006_ra: the registration authority (issue 6 part B, src/ra/).
--
-- Citizens and their identity documents (R2.1-R2.6), the evidence of every
-- registration act (CPS §5.5, retained 15 years: CPS §4.2.1), organizations
-- with their representatives and linked persons (R2.7), certificate
-- requests with their two-person decision (R1.5, R2.8) and revocation
-- requests (R6.1, CPS §4.9.3.1).  Same portable dialect as 001_init:
-- BIGINT Unix seconds, TEXT, no AUTOINCREMENT; ids are random hex chosen by
-- ra/, never by the database.

-- A natural person known to the RA.  person_id is the ETSI EN 319 412-1
-- semantics identifier (IDCES-12345678Z) that certificates carry as
-- serialNumber and that certs.subject_id holds, so a citizen's certificates
-- are found without a join table.
CREATE TABLE citizens (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL UNIQUE,
    level TEXT NOT NULL CHECK (level IN ('basic', 'advanced')),
    given_name TEXT NOT NULL,
    surname TEXT NOT NULL,
    country TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    mobile TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Identity documents (R2.3).  Exactly one 'current' document per citizen;
-- a duplicate (loss, theft, damage) or renewal marks the old row
-- 'replaced' and keeps it as evidence (R2.5).  An EU citizen's registration
-- certificate is only valid with a passport or national identity card: the
-- companion_* columns hold that second document.
CREATE TABLE identity_documents (
    id TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    doc_type TEXT NOT NULL
        CHECK (doc_type IN ('DNI', 'NIE', 'TIE', 'EU_REGISTRATION')),
    number TEXT NOT NULL,
    country TEXT NOT NULL,
    support_number TEXT NOT NULL DEFAULT '',
    expiry BIGINT NOT NULL,
    companion_type TEXT NOT NULL DEFAULT '',
    companion_number TEXT NOT NULL DEFAULT '',
    companion_country TEXT NOT NULL DEFAULT '',
    companion_expiry BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('current', 'replaced')),
    replace_reason TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    replaced_at BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX identity_documents_current
    ON identity_documents (citizen_id) WHERE status = 'current';

-- Registration evidence (R2.6, CPS §5.5): who registered whom, when, how
-- (face_to_face, ecert, console) and the reference of the paper or
-- electronic evidence.  Rows are never updated; retain_until is 15 years
-- after the act (CPS §4.2.1) and tells an archivist what may be purged.
CREATE TABLE registrations (
    id TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    kind TEXT NOT NULL,
    method TEXT NOT NULL,
    actor TEXT NOT NULL,
    evidence_ref TEXT NOT NULL,
    details TEXT,
    created_at BIGINT NOT NULL,
    retain_until BIGINT NOT NULL
);
CREATE INDEX registrations_by_citizen ON registrations (citizen_id);

-- Subscriber organizations (R2.7).  org_identifier is the
-- organizationIdentifier of EN 319 412-1 (VATES-B12345678) and equals
-- certs.subscriber_id of the organization's certificates.  kind 'entity'
-- is an entity without legal personality (CPS §3.1.1.4).  psd2_* are the
-- NCA data of a payment service provider (ETSI TS 119 495); empty when
-- not a PSP.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    org_identifier TEXT NOT NULL UNIQUE,
    nif TEXT NOT NULL,
    country TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('legal_person', 'entity')),
    locality TEXT NOT NULL,
    business_category TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL,
    contact_mobile TEXT NOT NULL DEFAULT '',
    psd2_nca_name TEXT NOT NULL DEFAULT '',
    psd2_nca_id TEXT NOT NULL DEFAULT '',
    psd2_roles TEXT NOT NULL DEFAULT '',
    psd2_authorization TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- People of an organization: representatives (CPS §3.2.2: scope and
-- validity of the powers, the public document proving them) and linked
-- persons (CPS §3.2.3.2: unit and title).  person_id is derived like a
-- citizen's, so a representative who is also a registered citizen is
-- recognised when they log in (self-service revocation, R6.1).
CREATE TABLE org_persons (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    role TEXT NOT NULL CHECK (role IN ('representative', 'member')),
    person_id TEXT NOT NULL,
    given_name TEXT NOT NULL,
    surname TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    id_country TEXT NOT NULL,
    document_expiry BIGINT NOT NULL DEFAULT 0,
    email TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    powers_scope TEXT NOT NULL DEFAULT '',
    powers_from BIGINT NOT NULL DEFAULT 0,
    powers_until BIGINT NOT NULL DEFAULT 0,
    powers_document TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, role, person_id)
);
CREATE INDEX org_persons_by_person ON org_persons (person_id, role);

-- Certificate requests of organizations (R2.8): pending until an officer
-- other than the creator approves (issuing the certificate) or rejects
-- them with a reason (R1.5).  subject is the JSON handed to ca_issue, csr
-- the PKCS#10 (PEM) of subscriber-key profiles.
CREATE TABLE cert_requests (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    profile TEXT NOT NULL,
    person_ref TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL,
    csr TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'approved', 'rejected')),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at BIGINT NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    cert_serial TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cert_requests_by_status ON cert_requests (status, created_at);

-- Revocation requests as CPS §4.9.3.1 lists them: date, subscriber,
-- reason, who asked (and in which capacity) and how to reach them.  Only
-- authenticated requests that were applied are stored; refusals live in
-- the audit trail.
CREATE TABLE revocation_requests (
    id TEXT PRIMARY KEY,
    serial TEXT NOT NULL,
    subscriber_id TEXT NOT NULL,
    reason INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    requester TEXT NOT NULL,
    capacity TEXT NOT NULL
        CHECK (capacity IN ('holder', 'representative', 'officer')),
    contact TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
