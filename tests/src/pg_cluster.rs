//! A private PostgreSQL cluster for one test (initdb into a temporary folder, its own port), so
//! a test can stop and restart the database under a running server without touching the shared
//! one. Needs the server binaries (`/usr/lib/postgresql/*/bin`); run as root it runs them as the
//! `postgres` user, as PostgreSQL refuses to run as root.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

pub struct PgCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PgCluster {
    /// A started cluster, or `None` (after printing why) when PostgreSQL is not installed outside CI.
    pub fn start() -> Option<PgCluster> {
        let Some(bin) = bin_dir() else {
            assert!(
                !crate::in_ci(),
                "PostgreSQL server binaries are required under CI=true"
            );
            eprintln!("skipping: no /usr/lib/postgresql/*/bin/pg_ctl");
            return None;
        };
        let dir = tempfile::tempdir().expect("a temporary folder");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = PgCluster { bin, dir, port };
        if is_root() {
            let path = cluster.dir.path().to_str().unwrap().to_owned();
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres", &path])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown {path} to postgres");
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-U", "postgres", "--auth=trust", "--no-sync"],
        );
        cluster.start_again();
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_str().unwrap().to_owned()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output().expect("PostgreSQL tool runs");
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts (or starts again) and waits until it accepts connections.
    pub fn start_again(&self) {
        let data = self.data();
        let sockets = self.dir.path().to_str().unwrap().to_owned();
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {sockets} -c fsync=off",
            self.port
        );
        let log = self.dir.path().join("log").to_str().unwrap().to_owned();
        self.run(
            "pg_ctl",
            &["-D", &data, "-o", &opts, "-l", &log, "-w", "start"],
        );
    }

    /// Hangs the cluster without closing anything: SIGSTOP to the postmaster and every process
    /// it started (backends, background workers). Connections stay open, queries never answer.
    pub fn pause(&self) {
        self.signal_all("-STOP");
    }

    /// Undoes [`PgCluster::pause`].
    pub fn resume(&self) {
        self.signal_all("-CONT");
    }

    /// The postmaster (first line of `postmaster.pid`) and its children, read from /proc.
    fn signal_all(&self, signal: &str) {
        let pid_file = self.dir.path().join("data/postmaster.pid");
        let text = std::fs::read_to_string(&pid_file).expect("postmaster.pid");
        let postmaster = text.lines().next().unwrap().trim().to_owned();
        let mut pids = vec![postmaster.clone()];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid ...`; comm may hold spaces, so split after its `)`.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1));
            if ppid == Some(postmaster.as_str()) {
                pids.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        let ok = Command::new("kill")
            .arg(signal)
            .args(&pids)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {signal} {pids:?}");
    }

    /// Fast shutdown: connections are terminated (57P01), new ones refused.
    pub fn stop(&self) {
        let data = self.data();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let _ = cmd.args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}
