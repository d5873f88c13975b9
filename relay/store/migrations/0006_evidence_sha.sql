-- The evidence sweep (relay/findings Sweep) asks, for every file in the
-- evidence folder, whether a finding still refers to it.
CREATE INDEX finding_evidence_sha256 ON finding_evidence (sha256);
