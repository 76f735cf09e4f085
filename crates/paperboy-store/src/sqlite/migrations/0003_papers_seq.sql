-- Derived indexes (search) catch up by listing papers changed since the
-- sequence number they last saw.

CREATE INDEX papers_seq ON papers (seq);
