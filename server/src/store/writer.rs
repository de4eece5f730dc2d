//! Group commit: ingest requests hand their occurrence to the bounded queue of the writer task
//! that owns its issue; the task takes everything waiting (up to `batch_max`), commits it in one
//! transaction, then answers every request of the batch. Under load, batches grow while the previous commit runs, so the cost of
//! a commit (an fsync on SQLite) is shared by many events without adding a fixed wait.
//!
//! Each queue is bounded: when it is full, [`Writer::submit`] fails at once with
//! [`SubmitError::QueueFull`] and the client gets 429 + Retry-After. Nothing is dropped silently:
//! every accepted job is answered with its commit result.
//!
//! A request waits at most the store timeout for its commit (the database down, hanging or busy):
//! then it is answered 503 + Retry-After and its job is skipped if no transaction took it yet, so
//! an answered event is either committed (2xx) or told to come back (503), never acknowledged and
//! lost. One already inside a transaction when its request gave up may still commit; the retry
//! then finds its uuid stored and is answered as a duplicate.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use super::release_health::NewSession;
use super::{Committed, NewOccurrence, Store};
use crate::metrics::Metrics;
use crate::telemetry::error_chain;

/// One request's writes: its event (if any) and its session updates, committed together.
struct Job {
    occurrence: Option<NewOccurrence>,
    sessions: Vec<NewSession>,
    ack: oneshot::Sender<Result<Option<Committed>, String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the ingest queue is full")]
    QueueFull,
    #[error("the writer has stopped")]
    Stopped,
    #[error("storing the event failed: {0}")]
    Store(String),
    #[error("the database did not commit within {0:?}")]
    TimedOut(std::time::Duration),
}

/// The sending side; cheap to clone, one per request handler.
#[derive(Clone)]
pub struct Writer {
    /// One queue per writer task; an occurrence goes to the queue its issue hashes to.
    shards: Arc<[mpsc::Sender<Job>]>,
    /// Benchmark mode: answer without storing (see `IngestConfig::bench_discard`).
    discard: bool,
    /// Longest a request waits for its commit.
    timeout: std::time::Duration,
}

impl Writer {
    /// Starts `writers` tasks, each with its own queue (`capacity` jobs shared between them).
    /// Occurrences are routed by their grouping hash, so two writers hardly ever update the
    /// same issue rows: with one shared queue, concurrent PostgreSQL batches waited on each
    /// other's row locks and 4 writers were 4x slower than one. [`WriterHandle::shutdown`]
    /// stops taking jobs and commits every job already accepted before it returns.
    pub fn spawn(
        store: Store,
        capacity: usize,
        batch_max: usize,
        writers: usize,
        metrics: Arc<Metrics>,
    ) -> (Writer, WriterHandle) {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut shards = Vec::with_capacity(writers);
        for _ in 0..writers {
            let (tx, mut rx) = mpsc::channel(capacity.div_ceil(writers));
            shards.push(tx);
            let (store, mut stopped) = (store.clone(), stopped.clone());
            let metrics = metrics.clone();
            tasks.spawn(async move {
                let mut jobs = Vec::with_capacity(batch_max);
                loop {
                    let received = tokio::select! {
                        biased;
                        n = rx.recv_many(&mut jobs, batch_max) => n,
                        _ = stopped.wait_for(|&s| s) => {
                            // Refuse new jobs; the loop drains what is queued.
                            rx.close();
                            continue;
                        }
                    };
                    if received == 0 {
                        return;
                    }
                    commit(&store, &mut jobs, &metrics).await;
                }
            });
        }
        let writer = Writer {
            shards: shards.into(),
            discard: false,
            timeout: std::time::Duration::from_secs(2),
        };
        (writer, WriterHandle { tasks, stop })
    }

    /// Makes this writer drop everything it is given: for measuring the ingest ceiling only.
    pub fn discarding(self) -> Self {
        Writer {
            discard: true,
            ..self
        }
    }

    /// Requests wait at most `timeout` for their commit (default 2 s).
    pub fn with_timeout(self, timeout: std::time::Duration) -> Self {
        Writer { timeout, ..self }
    }

    /// Queues one occurrence and waits for its commit, at most the store timeout.
    pub async fn submit(&self, occurrence: NewOccurrence) -> Result<Committed, SubmitError> {
        let committed = self
            .submit_with_sessions(Some(occurrence), Vec::new())
            .await?;
        Ok(committed.expect("an occurrence has a commit result"))
    }

    /// Queues an occurrence (or none) with session updates, committed in one transaction, and
    /// waits for the commit, at most the store timeout.
    pub async fn submit_with_sessions(
        &self,
        occurrence: Option<NewOccurrence>,
        sessions: Vec<NewSession>,
    ) -> Result<Option<Committed>, SubmitError> {
        if self.discard {
            return Ok(occurrence.map(|o| Committed {
                uuid: o.uuid,
                issue_id: 0,
                duplicate: false,
                new_issue: false,
                regressed: false,
            }));
        }
        if occurrence.is_none() && sessions.is_empty() {
            return Ok(None);
        }
        let (ack, done) = oneshot::channel();
        let shard = self.shard_of(occurrence.as_ref(), &sessions);
        shard
            .try_send(Job {
                occurrence,
                sessions,
                ack,
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => SubmitError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Stopped,
            })?;
        // On timeout `done` is dropped: the writer sees the closed ack and skips the job.
        tokio::time::timeout(self.timeout, done)
            .await
            .map_err(|_| SubmitError::TimedOut(self.timeout))?
            .map_err(|_| SubmitError::Stopped)?
            .map_err(SubmitError::Store)
    }

    /// The queue of the writer that owns the occurrence's issue (found by its first hash);
    /// session updates alone go by their project and release.
    fn shard_of(
        &self,
        occurrence: Option<&NewOccurrence>,
        sessions: &[NewSession],
    ) -> &mpsc::Sender<Job> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hasher = BuildHasherDefault::<DefaultHasher>::default();
        let hash = match (occurrence, sessions.first()) {
            (Some(o), _) => hasher.hash_one((o.project_id, &o.grouping.hashes[0].hash)),
            (None, Some(s)) => hasher.hash_one((s.project_id, &s.update.release)),
            (None, None) => 0,
        };
        &self.shards[(hash % self.shards.len() as u64) as usize]
    }

    /// Whether the writer still takes jobs (false once shutdown began).
    pub fn is_running(&self) -> bool {
        self.discard || self.shards.iter().any(|tx| !tx.is_closed())
    }

    /// Jobs waiting for a writer.
    pub fn queue_depth(&self) -> usize {
        self.shards
            .iter()
            .map(|tx| tx.max_capacity() - tx.capacity())
            .sum()
    }
}

/// Owns the writer tasks.
pub struct WriterHandle {
    tasks: JoinSet<()>,
    stop: watch::Sender<bool>,
}

impl WriterHandle {
    /// Stops accepting jobs, commits everything already queued, and waits for the tasks.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn commit(store: &Store, jobs: &mut Vec<Job>, metrics: &Metrics) {
    // A request that gave up (timed out, client gone) was answered 503 or not at all: storing
    // its event now would only make the retry a duplicate.
    let mut jobs: Vec<Job> = jobs.drain(..).filter(|j| !j.ack.is_closed()).collect();
    if jobs.is_empty() {
        return;
    }
    // Moved out, not copied (an occurrence holds its compressed event); a job keeps whether it
    // had one, and the one-by-one retry below takes it back from the batch.
    let has_occurrence: Vec<bool> = jobs.iter().map(|j| j.occurrence.is_some()).collect();
    let batch: Vec<NewOccurrence> = jobs
        .iter_mut()
        .filter_map(|j| j.occurrence.take())
        .collect();
    let sessions: Vec<NewSession> = jobs.iter().flat_map(|j| j.sessions.clone()).collect();
    let started = std::time::Instant::now();
    match store.commit_ingest(&batch, &sessions).await {
        Ok(results) => {
            metrics.batch_size.observe(jobs.len() as f64);
            metrics
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
            let mut results = results.into_iter();
            for (job, had) in jobs.into_iter().zip(has_occurrence) {
                let result = if had { results.next() } else { None };
                let _ = job.ack.send(Ok(result));
            }
        }
        Err(e) if e.is_unavailable() => {
            metrics.count_store_error(e.reason());
            // The database is not there: one by one would wait for it once per event.
            tracing::error!(error = %error_chain(&e), reason = e.reason(), events = jobs.len(), "database unavailable; batch refused");
            for job in jobs {
                let _ = job
                    .ack
                    .send(Err(format!("database unavailable: {}", error_chain(&e))));
            }
        }
        Err(e) => {
            metrics.count_store_error(e.reason());
            // One bad job must not fail its neighbours: retry each on its own.
            tracing::warn!(error = %error_chain(&e), events = jobs.len(), "batch failed; committing one by one");
            let mut batch = batch.into_iter();
            for (job, had) in jobs.into_iter().zip(has_occurrence) {
                let occurrence = if had { batch.next() } else { None };
                if job.ack.is_closed() {
                    continue;
                }
                let result = store
                    .commit_ingest(occurrence.as_slice(), &job.sessions)
                    .await
                    .map(|mut r| r.pop())
                    .map_err(|e| {
                        tracing::error!(error = %error_chain(&e), "storing an event failed");
                        e.to_string()
                    });
                let _ = job.ack.send(result);
            }
        }
    }
}
