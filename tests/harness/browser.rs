//! A headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
//! JSON messages ended by NUL on file descriptors 3 and 4), so no WebSocket client is needed.
//! Pages are opened at a given viewport size, scripts evaluated in them, screenshots saved.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::require_binary;

/// A running headless Chromium; killed on drop.
pub struct Browser {
    child: Child,
    to: std::fs::File,
    from: BufReader<std::fs::File>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

/// An open page (a DevTools session attached to one target).
pub struct Tab {
    session: String,
}

impl Browser {
    /// Starts `chromium --headless` with a throw-away profile.
    pub fn start() -> Browser {
        let binary = require_binary("chromium", "chromium");
        let profile = tempfile::tempdir().unwrap();
        let (ours_read, theirs_write) = std::io::pipe().unwrap();
        let (theirs_read, ours_write) = std::io::pipe().unwrap();
        let theirs_read: OwnedFd = theirs_read.into();
        let theirs_write: OwnedFd = theirs_write.into();
        let (read_fd, write_fd) = (theirs_read.as_raw_fd(), theirs_write.as_raw_fd());
        let mut command = Command::new(binary);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe fcntl and dup2 calls; the
        // descriptors are open in the parent until spawn returns. Both are first copied above
        // 10, so placing one on 3 or 4 cannot close the other.
        unsafe {
            command.pre_exec(move || {
                let read = libc::fcntl(read_fd, libc::F_DUPFD, 10);
                let write = libc::fcntl(write_fd, libc::F_DUPFD, 10);
                if read < 0 || write < 0 || libc::dup2(read, 3) < 0 || libc::dup2(write, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("start chromium");
        drop((theirs_read, theirs_write));
        Browser {
            child,
            to: OwnedFd::from(ours_write).into(),
            from: BufReader::new(OwnedFd::from(ours_read).into()),
            next_id: 0,
            _profile: profile,
        }
    }

    /// Sends one command and waits for its answer (events in between are skipped).
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to chromium");
        loop {
            let mut buf = Vec::new();
            let n = self
                .from
                .read_until(0, &mut buf)
                .expect("read from chromium");
            assert!(n > 0, "chromium closed the DevTools pipe");
            buf.pop();
            let answer: Value = serde_json::from_slice(&buf).expect("DevTools JSON");
            if answer["id"] == json!(id) {
                if let Some(error) = answer.get("error") {
                    panic!("{method}: {error}");
                }
                return answer["result"].clone();
            }
        }
    }

    /// Opens `url` in a new page with a `width` x `height` viewport (`mobile` emulates a phone)
    /// and waits until it has loaded.
    pub fn open(&mut self, url: &str, width: u32, height: u32, mobile: bool) -> Tab {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        );
        let tab = Tab {
            session: attached["sessionId"].as_str().unwrap().to_string(),
        };
        let s = Some(tab.session.as_str());
        self.call(
            s,
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        );
        self.call(s, "Page.navigate", json!({ "url": url }));
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.evaluate(&tab, "document.readyState") != json!("complete") {
            assert!(Instant::now() < deadline, "{url} did not load");
            std::thread::sleep(Duration::from_millis(100));
        }
        tab
    }

    /// The value of `expression` in the page (objects returned by value).
    pub fn evaluate(&mut self, tab: &Tab, expression: &str) -> Value {
        let result = self.call(
            Some(&tab.session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression}: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Saves a PNG of the viewport to `path`.
    pub fn screenshot(&mut self, tab: &Tab, path: &std::path::Path) {
        let shot = self.call(
            Some(&tab.session),
            "Page.captureScreenshot",
            json!({ "format": "png" }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
