//! A real SMTP server for the mail tests: `smtp_sink.py` on aiosmtpd, which `.ci/setup`
//! installs into `target/aiosmtpd` (or the Python named by `AIOSMTPD_PYTHON`), storing each
//! accepted message as an `.eml` file.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct SmtpSink {
    child: Option<Child>,
    pub port: u16,
    pub folder: tempfile::TempDir,
}

fn python() -> String {
    std::env::var("AIOSMTPD_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/../target/aiosmtpd/bin/python",
            env!("CARGO_MANIFEST_DIR")
        )
    })
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py")
}

impl SmtpSink {
    /// Starts the server on a free loopback port.
    pub fn start() -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut sink = SmtpSink {
            child: None,
            port,
            folder: tempfile::tempdir().expect("a folder for received mail"),
        };
        sink.resume();
        sink
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP on loopback (no TLS to test against here).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops the server: connections are refused until [`SmtpSink::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and folder, and returns once it accepts
    /// connections (it prints "ready" then).
    pub fn resume(&mut self) {
        let python = python();
        assert!(
            std::path::Path::new(&python).exists(),
            "aiosmtpd is not installed at {python}: run .ci/setup (or set AIOSMTPD_PYTHON)"
        );
        let mut child = Command::new(&python)
            .arg(script())
            .arg(self.port.to_string())
            .arg(self.folder.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut line)
            .expect("the SMTP server's first line");
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        self.child = Some(child);
    }

    /// Every message the server has accepted, oldest first.
    pub fn received(&self) -> Vec<crate::helpers::Mail> {
        crate::helpers::read_mail_dir(self.folder.path())
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
