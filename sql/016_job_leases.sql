-- 016_job_leases: one node at a time runs each background job (issue 17
-- item 2).  Several llaved on one database each start the CRL keeper, the
-- OCSP refresher, the audit sealer and the purger; before a pass a node
-- takes or renews the job's lease (store/store_lease.c) and skips the pass
-- while another node holds an unexpired one.  A node that dies stops
-- renewing: a survivor takes the job over once expires_at has passed
-- (three intervals of the job, docs/OPERATIONS.md §12).
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    taken_at BIGINT NOT NULL
);
