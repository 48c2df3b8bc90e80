//! A private tmux server for end-to-end UI tests: the real binary in a real
//! terminal, read with `capture-pane` as a person would see it.

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server on its own socket, killed when the test ends, so a
/// developer's own tmux sessions are never touched. One session, `t`.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// `Err` with the reason when tmux is not installed.
    pub fn available() -> Result<(), String> {
        match Command::new("tmux").arg("-V").output() {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(format!(
                "tmux -V failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Err(format!("tmux is not installed ({e})")),
        }
    }

    /// Start session `t` of `cols`×`rows` running `script` under `sh -c`;
    /// the script should end with `echo "EXITED:$?"; sleep 60` so the test
    /// can see the exit status and the terminal left behind.
    pub fn start(name: &str, cols: u16, rows: u16, script: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("tcpscope-{name}-{}", std::process::id()),
        };
        let (c, r) = (cols.to_string(), rows.to_string());
        let out = tmux.cmd(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &c,
            "-y",
            &r,
            "sh",
            "-c",
            script,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    pub fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env("LANG", "C.UTF-8")
            .output()
            .expect("tmux runs")
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    pub fn flag(&self, name: &str) -> String {
        let out = self.cmd(&["display-message", "-p", "-t", "t", &format!("#{{{name}}}")]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Wait until the screen satisfies `ok`, or fail with what it shows.
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}
