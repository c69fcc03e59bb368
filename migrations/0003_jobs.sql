-- Schema version 3: what the job manager and the version store need beyond 0001.
--
-- jobs.attempts counts how often a job was started (a restart re-runs it from the
-- beginning); jobs.cancel_requested is set by DELETE /v1/jobs/{id} on a running job, so the
-- worker, in whatever process it runs, sees the cancel at its next progress write.
-- model_versions.weights_bytes is the exact length of the weight block, which is stored as
-- an f64 matrix of ceil(bytes / 8) zero-padded rows.
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE model_versions ADD COLUMN weights_bytes INTEGER;
