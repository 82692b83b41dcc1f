//! Starts `localstripe`, the Stripe emulator that `.ci/setup` installs into
//! `target/localstripe` (or the binary named by `LOCALSTRIPE`), on a free loopback port.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Localstripe {
    child: Child,
    pub base: String,
}

impl Drop for Localstripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn localstripe_binary() -> String {
    std::env::var("LOCALSTRIPE").unwrap_or_else(|_| {
        format!(
            "{}/../target/localstripe/bin/localstripe",
            env!("CARGO_MANIFEST_DIR")
        )
    })
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts the emulator on a free loopback port and waits until it answers.
pub async fn localstripe() -> Localstripe {
    let binary = localstripe_binary();
    assert!(
        std::path::Path::new(&binary).exists(),
        "localstripe is not installed at {binary}: run .ci/setup (or set LOCALSTRIPE)"
    );
    let port = free_port();
    let child = Command::new(&binary)
        .args(["--port", &port.to_string(), "--from-scratch"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start localstripe");
    let emulator = Localstripe {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let probe = client
            .get(format!("{}/v1/customers", emulator.base))
            .basic_auth("sk_test_probe", Some(""))
            .send()
            .await;
        if probe.is_ok() {
            return emulator;
        }
        assert!(
            Instant::now() < deadline,
            "localstripe did not start within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Localstripe {
    #[allow(
        dead_code,
        reason = "each test crate that includes this file uses a different part"
    )]
    /// Asks the emulator to deliver events to `url`, signed with `secret`, as Stripe would.
    pub async fn send_webhooks_to(&self, url: &str, secret: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/_config/webhooks/ticketing", self.base))
            .basic_auth("sk_test_ticketing", Some(""))
            .form(&[("url", url), ("secret", secret)])
            .send()
            .await
            .expect("configure localstripe webhooks");
        assert!(
            response.status().is_success(),
            "localstripe webhook config: {}",
            response.status()
        );
    }
}
