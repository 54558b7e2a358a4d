-- 017_archive_since: the audit sealer finds rows not archived yet (R9.3,
-- store/store_archive.c) by a keyset on (time, key) from where its last
-- batch stopped, through these indexes, instead of comparing every row of
-- every archived table with archive_items on each pass (at 10 000 000
-- certificates a pass read them all under the write lock).  The latest
-- batch of a kind is found by (kind, batch).  certs (created_at, serial)
-- serves the OCSP refresher's created_at ranges as 003's index did.
DROP INDEX ocsp_certs_by_created;
CREATE INDEX certs_by_created_serial ON certs (created_at, serial);
CREATE INDEX archive_items_by_kind_batch ON archive_items (kind, batch);
CREATE INDEX crls_by_this_update ON crls (this_update);
CREATE INDEX registrations_by_created ON registrations (created_at, id);
CREATE INDEX revocation_requests_by_created
    ON revocation_requests (created_at, id);
CREATE INDEX cert_requests_by_decided ON cert_requests (decided_at, id);
