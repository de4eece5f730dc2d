//! Getting events to the server without ever stalling or crashing the app.
//!
//! `capture_*` hands the event to a thread named `bugle-transport` through a queue of bounded size:
//! when it is full the event is dropped and counted, because blocking could stall the app's hot
//! path. The thread posts each event to `{endpoint}/api/v1/events` and reads the status:
//!
//! | answer | meaning | what the thread does |
//! | --- | --- | --- |
//! | 2xx | committed | done (and the spool file removed) |
//! | 429, 503 | overloaded | waits `Retry-After` seconds (60 s for a bare 429), then sends again |
//! | 408, other 5xx, no connection | transient | retries with exponential backoff, a few times |
//! | other 4xx | refused (bad token, invalid event) | drops it; with `debug` says why on stderr |
//!
//! Events lost before the server saw them (a full queue, out of retries) are counted, and the count
//! goes with the next send as `X-Bugle-Dropped: N` (the server adds it to
//! `bugle_client_dropped_events_total` once that event is committed; otherwise it is sent again).
//!
//! A flush waits until the queue is empty, the deadline passes, or the next try would come after
//! the deadline (the server is down or asked to wait): then there is no point in waiting longer.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::debug::bugle_debug;
use crate::spool::Spool;
use crate::Event;

/// Where events go once captured and prepared.
///
/// The HTTP transport is used unless [`crate::Options::transport`] sets another, such as
/// [`crate::test::CapturingTransport`].
pub trait Transport: Send + Sync + 'static {
    /// Queues one event. Must return at once: it runs on the app's threads, in the panic hook too.
    fn send(&self, event: Event);

    /// Waits up to `timeout` for queued events to be delivered; true when all were.
    fn flush(&self, timeout: Duration) -> bool;

    /// Flushes, then stops for good. By default the same as [`flush`](Self::flush).
    fn shutdown(&self, timeout: Duration) -> bool {
        self.flush(timeout)
    }

    /// Events given up so far: queue full, refused by the server, or out of retries (and not spooled).
    fn dropped(&self) -> u64 {
        0
    }
}

thread_local! {
    static SDK_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// True on the transport thread: what it does (ureq's own `log` records, a panic) must not be
/// captured, or reporting would feed itself.
pub(crate) fn is_sdk_thread() -> bool {
    SDK_THREAD.with(Cell::get)
}

/// Tuning of the HTTP transport; the defaults are for production, tests shorten the waits.
#[derive(Debug, Clone)]
pub(crate) struct HttpConfig {
    pub url: String,
    pub token: String,
    pub capacity: usize,
    pub spool_dir: Option<std::path::PathBuf>,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub max_attempts: u32,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl HttpConfig {
    pub(crate) fn new(endpoint: &str, token: &str) -> Self {
        let base = endpoint.trim_end_matches('/');
        let url = if base.ends_with("/api/v1/events") {
            base.to_owned()
        } else {
            format!("{base}/api/v1/events")
        };
        HttpConfig {
            url,
            token: token.to_owned(),
            capacity: 100,
            spool_dir: None,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            max_attempts: 5,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
        }
    }
}

enum Task {
    Send(Box<Event>),
    Flush {
        deadline: Instant,
        ack: mpsc::SyncSender<bool>,
    },
    Shutdown {
        deadline: Instant,
        ack: Option<mpsc::SyncSender<bool>>,
    },
    /// The HTTP thread's answer to the request in flight.
    Done(Outcome),
}

/// Posts events from background threads with a bounded queue, retries, `Retry-After` and a spool.
///
/// Two threads: `bugle-transport` owns the queue, the spool and the flushes and never waits on the
/// network; `bugle-http` does one request at a time. So a server that accepts connections and never
/// answers cannot keep a new event out of the spool or a flush past its deadline.
pub(crate) struct HttpTransport {
    tx: mpsc::Sender<Task>,
    /// Events accepted but not yet finished (in the channel or being sent).
    queued: Arc<AtomicUsize>,
    capacity: usize,
    dropped: Arc<AtomicU64>,
    /// Lost here and not yet told to the server (`X-Bugle-Dropped`).
    unreported: Arc<AtomicU64>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl HttpTransport {
    pub(crate) fn new(config: HttpConfig) -> HttpTransport {
        let (tx, rx) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let unreported = Arc::new(AtomicU64::new(0));
        let capacity = config.capacity.max(1);
        let http = spawn_http(&config, tx.clone());
        let mut worker = Worker::new(config, rx, http, queued.clone(), dropped.clone());
        worker.unreported = unreported.clone();
        let handle = std::thread::Builder::new()
            .name("bugle-transport".into())
            .spawn(move || {
                SDK_THREAD.with(|c| c.set(true));
                worker.run();
            })
            .map_err(|e| {
                bugle_debug!("cannot start the transport thread: {e}; events will be dropped")
            })
            .ok();
        HttpTransport {
            tx,
            queued,
            capacity,
            dropped,
            unreported,
            handle: Mutex::new(handle),
        }
    }

    fn wait(&self, timeout: Duration, shutdown: bool) -> bool {
        if is_sdk_thread() {
            return false; // waiting for ourselves would only ever time out
        }
        let deadline = Instant::now() + timeout;
        let (ack, done) = mpsc::sync_channel(1);
        let task = if shutdown {
            Task::Shutdown {
                deadline,
                ack: Some(ack),
            }
        } else {
            Task::Flush { deadline, ack }
        };
        if self.tx.send(task).is_err() {
            return self.queued.load(Ordering::SeqCst) == 0;
        }
        done.recv_timeout(timeout).unwrap_or(false)
    }
}

/// The thread that talks HTTP: one request at a time, each answer sent back as [`Task::Done`].
fn spawn_http(config: &HttpConfig, results: mpsc::Sender<Task>) -> Option<mpsc::Sender<Request>> {
    let (tx, rx) = mpsc::channel::<Request>();
    let config = config.clone();
    std::thread::Builder::new()
        .name("bugle-http".into())
        .spawn(move || {
            SDK_THREAD.with(|c| c.set(true));
            let agent = make_agent(&config);
            // Ends when the transport thread drops its sender.
            for req in rx {
                if results
                    .send(Task::Done(post(&agent, &config, &req)))
                    .is_err()
                {
                    return;
                }
            }
        })
        .map_err(|e| bugle_debug!("cannot start the HTTP thread: {e}; events will be dropped"))
        .ok()
        .map(|_| tx)
}

impl Transport for HttpTransport {
    fn send(&self, event: Event) {
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            self.unreported.fetch_add(1, Ordering::Relaxed);
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            bugle_debug!(
                "queue full ({} events): dropped event {} ({n} dropped so far)",
                self.capacity,
                event.uuid
            );
            return;
        }
        if self.tx.send(Task::Send(Box::new(event))).is_err() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.wait(timeout, false)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        let done = self.wait(timeout, true);
        if done {
            // It acknowledged and is returning: joining takes no time.
            if let Some(h) = self.handle.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = h.join();
            }
        }
        done
    }

    fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for HttpTransport {
    /// Without a shutdown first (a transport dropped by hand), the thread stops at once; the spool
    /// keeps what it holds.
    fn drop(&mut self) {
        let _ = self.tx.send(Task::Shutdown {
            deadline: Instant::now(),
            ack: None,
        });
    }
}

/// One POST for the HTTP thread.
struct Request {
    body: Arc<Vec<u8>>,
    /// Sent as `X-Bugle-Dropped` when non-zero.
    dropped: u64,
}

struct Pending {
    uuid: Uuid,
    body: Arc<Vec<u8>>,
    attempts: u32,
    spooled: bool,
}

struct Waiter {
    deadline: Instant,
    ack: Option<mpsc::SyncSender<bool>>,
    shutdown: bool,
}

enum Outcome {
    Delivered,
    Refused(u16, String),
    RateLimited(Duration),
    Transient(String),
}

/// Which queue the request in flight came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Fresh,
    Backlog,
}

struct Worker {
    config: HttpConfig,
    rx: mpsc::Receiver<Task>,
    http: Option<mpsc::Sender<Request>>,
    queued: Arc<AtomicUsize>,
    dropped: Arc<AtomicU64>,
    unreported: Arc<AtomicU64>,
    /// The `X-Bugle-Dropped` count of the request in flight: given back unless it is delivered.
    reporting: u64,
    spool: Option<Spool>,
    /// Events captured by this process, in order.
    pending: VecDeque<Pending>,
    /// Events a previous run left in the spool: sent when `pending` is empty, and not waited for
    /// by a flush (the fresh crash report matters more than an old backlog).
    backlog: VecDeque<Pending>,
    in_flight: Option<Source>,
    waiters: Vec<Waiter>,
    /// No request before this instant (backoff or Retry-After).
    next_attempt: Option<Instant>,
    /// Consecutive transient failures: the backoff exponent.
    failures: u32,
}

impl Worker {
    fn new(
        config: HttpConfig,
        rx: mpsc::Receiver<Task>,
        http: Option<mpsc::Sender<Request>>,
        queued: Arc<AtomicUsize>,
        dropped: Arc<AtomicU64>,
    ) -> Self {
        Worker {
            config,
            rx,
            http,
            queued,
            dropped,
            unreported: Arc::default(),
            reporting: 0,
            spool: None,
            pending: VecDeque::new(),
            backlog: VecDeque::new(),
            in_flight: None,
            waiters: Vec::new(),
            next_attempt: None,
            failures: 0,
        }
    }

    fn run(mut self) {
        self.open_spool();
        loop {
            self.drain();
            if self.resolve_waiters() {
                break;
            }
            let now = Instant::now();
            let has_work = !self.pending.is_empty() || !self.backlog.is_empty();
            if has_work && self.in_flight.is_none() && self.next_attempt.map_or(true, |t| t <= now)
            {
                self.start_attempt();
                continue;
            }
            // Sleep until a task or an answer arrives, the next try is due, or a waiter's deadline passes.
            let mut wake = if has_work && self.in_flight.is_none() {
                self.next_attempt
            } else {
                None
            };
            for w in &self.waiters {
                wake = Some(wake.map_or(w.deadline, |t| t.min(w.deadline)));
            }
            let task = match wake {
                Some(t) => match self.rx.recv_timeout(t.saturating_duration_since(now)) {
                    Ok(task) => task,
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                },
                None => match self.rx.recv() {
                    Ok(task) => task,
                    Err(_) => break,
                },
            };
            self.handle(task);
        }
        self.give_up_pending();
    }

    fn open_spool(&mut self) {
        let Some(dir) = self.config.spool_dir.clone() else {
            return;
        };
        match Spool::open(&dir) {
            Ok(spool) => {
                let old = spool.load(self.config.capacity);
                if !old.is_empty() {
                    bugle_debug!(
                        "resending {} spooled events from {}",
                        old.len(),
                        dir.display()
                    );
                }
                for (uuid, body) in old {
                    self.backlog.push_back(Pending {
                        uuid,
                        body: Arc::new(body),
                        attempts: 0,
                        spooled: true,
                    });
                }
                self.spool = Some(spool);
            }
            Err(e) => bugle_debug!("spool directory {} unusable: {e}", dir.display()),
        }
    }

    /// Takes every task already waiting.
    fn drain(&mut self) {
        while let Ok(task) = self.rx.try_recv() {
            self.handle(task);
        }
    }

    fn handle(&mut self, task: Task) {
        match task {
            Task::Send(event) => self.enqueue(*event),
            Task::Flush { deadline, ack } => self.waiters.push(Waiter {
                deadline,
                ack: Some(ack),
                shutdown: false,
            }),
            Task::Shutdown { deadline, ack } => self.waiters.push(Waiter {
                deadline,
                ack,
                shutdown: true,
            }),
            Task::Done(outcome) => self.finish_attempt(outcome),
        }
    }

    fn enqueue(&mut self, event: Event) {
        let body = match serde_json::to_vec(&event) {
            Ok(b) => b,
            Err(e) => {
                bugle_debug!("cannot serialize event {}: {e}", event.uuid);
                self.queued.fetch_sub(1, Ordering::SeqCst);
                self.dropped.fetch_add(1, Ordering::Relaxed);
                self.unreported.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        let mut spooled = false;
        if let Some(spool) = &mut self.spool {
            match spool.write(&event.uuid, &body) {
                Ok(()) => spooled = true,
                Err(e) => bugle_debug!("cannot spool event {}: {e}", event.uuid),
            }
        }
        self.pending.push_back(Pending {
            uuid: event.uuid,
            body: Arc::new(body),
            attempts: 0,
            spooled,
        });
    }

    /// Answers flushes that can be answered; true when a shutdown was answered (time to stop).
    ///
    /// A flush waits for this process's events; a shutdown also gives the spool's backlog its chance.
    fn resolve_waiters(&mut self) -> bool {
        let now = Instant::now();
        let fresh_done = self.pending.is_empty();
        let all_done = fresh_done && self.backlog.is_empty();
        // Waiting for a try that is due after the deadline would only end in a timeout.
        let due_later = if self.in_flight.is_some() {
            None
        } else {
            self.next_attempt
        };
        let mut answers = Vec::new();
        let mut stop = false;
        self.waiters.retain_mut(|w| {
            let done = if w.shutdown { all_done } else { fresh_done };
            let resolved = done || now >= w.deadline || due_later.is_some_and(|t| t > w.deadline);
            if resolved {
                answers.extend(w.ack.take().map(|ack| (ack, done)));
                stop |= w.shutdown;
            }
            !resolved
        });
        if stop {
            self.give_up_pending(); // before answering, so the caller sees the final counts
        }
        for (ack, done) in answers {
            let _ = ack.try_send(done);
        }
        stop
    }

    /// Stopping: what is still queued is lost, unless the spool has it.
    fn give_up_pending(&mut self) {
        let left = self.pending.len();
        if left > 0 {
            let spooled = self.pending.iter().filter(|p| p.spooled).count();
            let lost = (left - spooled) as u64;
            self.dropped.fetch_add(lost, Ordering::Relaxed);
            self.queued.fetch_sub(left, Ordering::SeqCst);
            self.pending.clear();
            bugle_debug!("stopping with {left} undelivered events ({spooled} kept in the spool, {lost} lost)");
        }
    }

    fn start_attempt(&mut self) {
        let (source, front) = match self.pending.front_mut() {
            Some(p) => (Source::Fresh, p),
            None => match self.backlog.front_mut() {
                Some(p) => (Source::Backlog, p),
                None => return,
            },
        };
        front.attempts += 1;
        let body = front.body.clone();
        let dropped = self.unreported.swap(0, Ordering::Relaxed);
        match &self.http {
            Some(http) if http.send(Request { body, dropped }).is_ok() => {
                self.in_flight = Some(source);
                self.reporting = dropped;
            }
            _ => {
                self.unreported.fetch_add(dropped + 1, Ordering::Relaxed);
                self.finish_front(source, false, true);
            }
        }
    }

    fn finish_attempt(&mut self, outcome: Outcome) {
        let Some(source) = self.in_flight.take() else {
            return;
        };
        let now = Instant::now();
        let reported = std::mem::take(&mut self.reporting);
        if !matches!(outcome, Outcome::Delivered) {
            self.unreported.fetch_add(reported, Ordering::Relaxed);
        }
        match outcome {
            Outcome::Delivered => {
                self.failures = 0;
                self.next_attempt = None;
                self.finish_front(source, true, false);
            }
            Outcome::Refused(status, body) => {
                bugle_debug!("server refused an event with {status}: {body}");
                self.finish_front(source, true, true);
            }
            Outcome::RateLimited(wait) => {
                bugle_debug!("server is busy: waiting {wait:?} before sending again");
                if let Some(front) = self.queue(source).front_mut() {
                    front.attempts -= 1; // being told to wait is not a failed try
                }
                self.next_attempt = Some(now + wait);
            }
            Outcome::Transient(why) => {
                self.failures = self.failures.saturating_add(1);
                let exp = self.failures.saturating_sub(1).min(16);
                let backoff = self
                    .config
                    .retry_base
                    .saturating_mul(1u32 << exp)
                    .min(self.config.retry_max);
                self.next_attempt = Some(now + backoff);
                let max = self.config.max_attempts;
                let Some(front) = self.queue(source).front() else {
                    return;
                };
                let (attempts, spooled) = (front.attempts, front.spooled);
                if attempts >= max {
                    bugle_debug!(
                        "giving up on an event after {attempts} tries ({why}){}",
                        if spooled {
                            "; it stays in the spool for the next start"
                        } else {
                            ""
                        }
                    );
                    // Out of tries but spooled: the file stays for the next start.
                    if !spooled {
                        self.unreported.fetch_add(1, Ordering::Relaxed);
                    }
                    self.finish_front(source, false, !spooled);
                } else {
                    bugle_debug!("send failed ({why}); try {attempts} again in {backoff:?}");
                }
            }
        }
    }

    fn queue(&mut self, source: Source) -> &mut VecDeque<Pending> {
        match source {
            Source::Fresh => &mut self.pending,
            Source::Backlog => &mut self.backlog,
        }
    }

    /// The front event of `source` is finished: `unspool` removes its file, `lost` counts it dropped.
    fn finish_front(&mut self, source: Source, unspool: bool, lost: bool) {
        let Some(p) = self.queue(source).pop_front() else {
            return;
        };
        if let (true, true, Some(spool)) = (unspool, p.spooled, &mut self.spool) {
            spool.remove(&p.uuid);
        }
        if source == Source::Fresh {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            if lost {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn make_agent(config: &HttpConfig) -> ureq::Agent {
    let agent_config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(config.connect_timeout))
        .timeout_global(Some(config.request_timeout))
        .user_agent(format!("{}/{}", crate::SDK_NAME, crate::SDK_VERSION))
        .build();
    ureq::Agent::new_with_config(agent_config)
}

fn post(agent: &ureq::Agent, config: &HttpConfig, req: &Request) -> Outcome {
    let mut request = agent
        .post(&config.url)
        .header("Authorization", &format!("Bearer {}", config.token))
        .header("Content-Type", "application/json");
    if req.dropped > 0 {
        request = request.header("X-Bugle-Dropped", &req.dropped.to_string());
    }
    let result = request.send(req.body.as_slice());
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => return Outcome::Transient(e.to_string()),
    };
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    // Read the (small) answer so the connection can be reused.
    let text = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default();
    match status {
        200..=299 => Outcome::Delivered,
        429 => Outcome::RateLimited(retry_after.unwrap_or(Duration::from_secs(60))),
        503 => match retry_after {
            Some(wait) => Outcome::RateLimited(wait),
            None => Outcome::Transient(format!("HTTP 503: {text}")),
        },
        408 | 500..=599 => Outcome::Transient(format!("HTTP {status}: {text}")),
        _ => Outcome::Refused(status, text),
    }
}

/// `Retry-After` in seconds (an HTTP date is rare for us and falls back to the default), capped at 10 min.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(secs.min(600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc::Receiver;

    /// A tiny HTTP/1.1 peer: answers each request with the next canned response (the last repeats)
    /// and reports (time, body) of every request it read.
    fn serve(responses: Vec<&'static str>) -> (String, Receiver<(Instant, String)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut n = 0;
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                // Keep-alive: several requests may come on one connection.
                while let Some(body) = read_request(&mut reader) {
                    let _ = tx.send((Instant::now(), body));
                    let resp = responses[n.min(responses.len() - 1)];
                    n += 1;
                    if stream.write_all(resp.as_bytes()).is_err() {
                        break;
                    }
                }
            }
        });
        (url, rx)
    }

    fn read_request(reader: &mut BufReader<TcpStream>) -> Option<String> {
        let mut len = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().ok()?;
                }
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
        Some(String::from_utf8_lossy(&body).into_owned())
    }

    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n{\"uuid\":\"x\",\"issue_id\":1234}";
    const BUSY: &str =
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n{}";
    const FAIL: &str = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}";
    const BAD: &str = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}";

    fn config(url: &str) -> HttpConfig {
        HttpConfig {
            retry_base: Duration::from_millis(50),
            ..HttpConfig::new(url, "tok")
        }
    }

    fn dead_url() -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap()) // closed when `l` drops: connection refused
    }

    fn event(msg: &str) -> Event {
        let mut e = Event::new(Level::Error);
        e.message = Some(msg.into());
        e
    }

    #[test]
    fn an_event_is_posted_with_the_token_and_flush_confirms() {
        let (url, rx) = serve(vec![OK]);
        let t = HttpTransport::new(config(&url));
        t.send(event("hello"));
        assert!(t.flush(Duration::from_secs(5)));
        let (_, body) = rx.recv_timeout(Duration::from_secs(1)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["message"], "hello");
        assert_eq!(t.dropped(), 0);
        assert!(t.shutdown(Duration::from_secs(1)));
    }

    #[test]
    fn retry_after_is_honoured() {
        let (url, rx) = serve(vec![BUSY, OK]);
        let t = HttpTransport::new(config(&url));
        t.send(event("later"));
        let (first, _) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        let (second, body) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(
            second - first >= Duration::from_millis(950),
            "resent after {:?}",
            second - first
        );
        assert!(body.contains("later"));
        assert!(t.flush(Duration::from_secs(2)));
        assert_eq!(t.dropped(), 0);
    }

    #[test]
    fn transient_failures_are_retried_with_backoff() {
        let (url, rx) = serve(vec![FAIL, FAIL, OK]);
        let t = HttpTransport::new(config(&url));
        t.send(event("flaky"));
        let times: Vec<Instant> = (0..3)
            .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap().0)
            .collect();
        assert!(times[1] - times[0] >= Duration::from_millis(45));
        assert!(
            times[2] - times[1] >= Duration::from_millis(95),
            "backoff doubles"
        );
        assert!(t.flush(Duration::from_secs(2)));
        assert_eq!(t.dropped(), 0);
    }

    #[test]
    fn a_refused_event_is_dropped_and_counted() {
        let (url, _rx) = serve(vec![BAD]);
        let t = HttpTransport::new(config(&url));
        t.send(event("nope"));
        assert!(t.flush(Duration::from_secs(5)));
        assert_eq!(t.dropped(), 1);
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_blocking() {
        // A peer that accepts and never answers: the first event occupies the thread.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let _hold = std::thread::spawn(move || {
            let conns: Vec<_> = listener.incoming().take(1).collect();
            std::thread::sleep(Duration::from_secs(30));
            drop(conns);
        });
        let t = HttpTransport::new(HttpConfig {
            capacity: 3,
            ..config(&url)
        });
        let start = Instant::now();
        for i in 0..50 {
            t.send(event(&format!("e{i}")));
        }
        assert!(
            start.elapsed() < Duration::from_millis(200),
            "send blocked for {:?}",
            start.elapsed()
        );
        assert_eq!(t.dropped(), 47);
        let start = Instant::now();
        assert!(!t.shutdown(Duration::from_millis(300)));
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "shutdown waited {:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_dead_server_does_not_hold_a_flush_past_the_backoff() {
        let t = HttpTransport::new(HttpConfig {
            retry_base: Duration::from_secs(5),
            ..config(&dead_url())
        });
        t.send(event("lost"));
        let start = Instant::now();
        assert!(!t.flush(Duration::from_secs(2)));
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "flush waited {:?}",
            start.elapsed()
        );
        assert!(!t.shutdown(Duration::from_secs(2)));
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(t.dropped(), 1);
    }

    #[test]
    fn spooled_events_are_sent_at_the_next_start() {
        let dir = std::env::temp_dir().join(format!("bugle-spool-t-{}", Uuid::new_v4()));
        let down = HttpConfig {
            spool_dir: Some(dir.clone()),
            ..config(&dead_url())
        };
        let t = HttpTransport::new(down);
        let ev = event("during the outage");
        let uuid = ev.uuid;
        t.send(ev);
        let _ = t.shutdown(Duration::from_millis(500));
        assert_eq!(t.dropped(), 0, "a spooled event is not lost");
        let file = dir.join(format!("{uuid}.json"));
        assert!(file.exists());

        let (url, rx) = serve(vec![OK]);
        let t = HttpTransport::new(HttpConfig {
            spool_dir: Some(dir.clone()),
            ..config(&url)
        });
        let (_, body) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(body.contains("during the outage") && body.contains(&uuid.to_string()));
        let start = Instant::now();
        while file.exists() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!file.exists(), "delivered events leave the spool");
        drop(t);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_server_that_never_answers_does_not_keep_events_out_of_the_spool_or_hold_a_flush() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let _hold = std::thread::spawn(move || {
            let conns: Vec<_> = listener.incoming().take(2).collect();
            std::thread::sleep(Duration::from_secs(30));
            drop(conns);
        });
        let dir = std::env::temp_dir().join(format!("bugle-spool-h-{}", Uuid::new_v4()));
        let t = HttpTransport::new(HttpConfig {
            spool_dir: Some(dir.clone()),
            ..config(&url)
        });
        let (a, b) = (event("first"), event("second"));
        let files = [
            dir.join(format!("{}.json", a.uuid)),
            dir.join(format!("{}.json", b.uuid)),
        ];
        t.send(a);
        std::thread::sleep(Duration::from_millis(100)); // the first request is now hanging
        t.send(b);
        let start = Instant::now();
        assert!(!t.flush(Duration::from_millis(500)));
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(450) && waited < Duration::from_millis(1500),
            "{waited:?}"
        );
        assert!(
            files.iter().all(|f| f.exists()),
            "both events are spooled while the request hangs"
        );
        assert!(!t.shutdown(Duration::from_millis(200)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn retry_after_values_parse() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("99999"), Some(Duration::from_secs(600)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn the_events_path_is_added_once() {
        assert_eq!(
            HttpConfig::new("http://h:1/", "t").url,
            "http://h:1/api/v1/events"
        );
        assert_eq!(
            HttpConfig::new("http://h:1/api/v1/events", "t").url,
            "http://h:1/api/v1/events"
        );
    }
}
