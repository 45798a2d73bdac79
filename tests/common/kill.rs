//! The kill harness's child: the test binary re-run as a process that
//! performs one operation and is SIGKILLed at a chosen moment.
//!
//! The child test prints `KILL:ready`, waits for a line on stdin, runs the
//! operation and prints `KILL:done MICROS`; then it may wait to be killed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Starts `child_test` (an ignored test of this binary) with `env` set,
/// lets it get ready, tells it to go, and SIGKILLs it after `delay`.
/// `None`: lets it finish the operation, kills it then (it may hold what
/// it made until killed), and returns how long the operation took.
pub fn run_child(child_test: &str, env: (&str, &str), delay: Option<Duration>) -> Option<Duration> {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            child_test,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(env.0, env.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut wait_for = |tag: &str| -> Option<String> {
        lines
            .by_ref()
            .map_while(Result::ok)
            // The harness prints "test NAME ... " before the first line.
            .find_map(|l| l.find(tag).map(|at| l[at + tag.len()..].to_string()))
    };
    wait_for("KILL:ready").expect("child did not get ready");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"go\n").unwrap();
    stdin.flush().unwrap();
    match delay {
        Some(d) => {
            std::thread::sleep(d);
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            None
        }
        None => {
            let micros = wait_for("KILL:done ").expect("child did not finish");
            let _ = child.kill();
            let _ = child.wait();
            Some(Duration::from_micros(micros.trim().parse().unwrap()))
        }
    }
}
