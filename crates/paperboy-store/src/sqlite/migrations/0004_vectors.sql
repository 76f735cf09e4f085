-- Embedding vectors of papers, one per (model, paper): derived data that is
-- costly to compute, so it is kept here, with a hash of the text it was
-- computed from (to notice a changed abstract) and its own change sequence,
-- which the vector index catches up from.

CREATE TABLE paper_vectors (
    model     TEXT    NOT NULL,
    paper_id  TEXT    NOT NULL REFERENCES papers (id),
    text_hash BLOB    NOT NULL,
    vector    BLOB    NOT NULL, -- little-endian f32, dimension = length / 4
    seq       INTEGER NOT NULL, -- vector change sequence number
    PRIMARY KEY (model, paper_id)
);

CREATE INDEX paper_vectors_seq ON paper_vectors (model, seq);

INSERT INTO meta (key, value) VALUES ('vector_seq', 0);
