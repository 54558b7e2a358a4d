-- 013_tx_pdf: PDF documents of signature transactions (issue 14 item 4;
-- rules in src/sign/sign_tx.c, SQL in src/store/store_docs.c).  Portable
-- like 008 (BIGINT, BYTEA, TEXT).
--
-- A transaction document (sign_documents, same tx_id and seq) may carry a
-- whole PDF instead of the application's digest: sign_documents.digest is
-- then the digest of the PDF exactly as sent, which the citizen's OTP is
-- bound to (R3.3), and the service signs it itself as PAdES (ETSI EN 319
-- 142-1) at `level`.  pages and size are what the citizen's page shows;
-- signed_pdf (the input followed by the incremental updates) is NULL until
-- the citizen approved.  The purge deletes these rows with their
-- transaction (sign_keep_hours).
CREATE TABLE sign_pdfs (
    tx_id TEXT NOT NULL REFERENCES sign_transactions (id),
    seq INTEGER NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('B-B', 'B-T', 'B-LT', 'B-LTA')),
    pages INTEGER NOT NULL CHECK (pages > 0),
    size BIGINT NOT NULL CHECK (size > 0),
    pdf BYTEA NOT NULL,
    signed_pdf BYTEA,
    PRIMARY KEY (tx_id, seq)
);
