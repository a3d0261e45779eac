//! A headless Chromium for one test: chromedriver on a free port, a fresh profile, every wait
//! bounded. Dropping it ends chromedriver and the browser it started (their process group) and
//! removes the profile, also when the test panics.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use thirtyfour::prelude::*;

/// Longest wait for chromedriver to answer, an element to appear or a page to change.
pub const WAIT: Duration = Duration::from_secs(15);
/// Longest Chromium may take to start (the WebDriver session's creation). Started while the
/// whole suite runs on two cores, it once took longer than [`WAIT`] in CI.
pub const START: Duration = Duration::from_secs(60);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// Flags for a closed network: no background requests (refused here anyway, and slow to fail),
/// no QUIC, no first-run screens.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

const INSTALL_HINT: &str = "install Debian's `chromium` and `chromium-driver` (apt-get install chromium chromium-driver; \
     .ci/run does), or point GAZETTE_TEST_CHROMEDRIVER / GAZETTE_TEST_CHROMIUM at them";

/// chromedriver and a browser session.
pub struct Chrome {
    /// The session.
    pub driver: WebDriver,
    // Dropped after the session: ends chromedriver and the browser.
    _process: DriverProcess,
}

/// The chromedriver process group and the browser profile, ended and removed on drop.
struct DriverProcess {
    child: Child,
    profile: PathBuf,
}

impl Chrome {
    /// Starts chromedriver (`GAZETTE_TEST_CHROMEDRIVER`, default `chromedriver` on the PATH) and
    /// a headless Chromium (`GAZETTE_TEST_CHROMIUM`, default `/usr/bin/chromium` when present).
    /// Panics with what is missing when either cannot start in time (chromedriver within
    /// [`WAIT`], Chromium within [`START`]).
    pub async fn start(artifacts: &Path) -> Chrome {
        let driver_bin =
            std::env::var("GAZETTE_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        let profile =
            std::env::temp_dir().join(format!("gazette-chromium-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&profile).expect("browser profile directory");
        let log = std::fs::File::create(artifacts.join("chromedriver.log")).expect("driver log");
        let mut command = Command::new(&driver_bin);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("driver log"))
            .stderr(log);
        // Its own process group, so that dropping it ends the browser it started too.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `{driver_bin}`: {e}; {INSTALL_HINT}"));
        let mut process = DriverProcess { child, profile };
        process.wait_until_ready(port, &driver_bin).await;
        Chrome {
            driver: open_session(port, &process.profile).await,
            _process: process,
        }
    }

    /// The first element matching `css`, waiting up to [`WAIT`] for it.
    pub async fn element(&self, css: &str) -> WebElement {
        self.driver
            .query(By::Css(css))
            .wait(WAIT, POLL)
            .first()
            .await
            .unwrap_or_else(|e| panic!("no `{css}` on the page within {WAIT:?}: {e}"))
    }

    /// Waits until the script `condition` (a JavaScript expression) is true.
    pub async fn until(&self, condition: &str, what: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self
                .driver
                .execute(&format!("return Boolean({condition});"), vec![])
                .await
                .map(|r| r.json().clone());
            if matches!(value, Ok(Value::Bool(true))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not seen within {WAIT:?} ({condition}; last answer {value:?})"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Runs `script` (a function body that returns a JSON-serialisable value).
    pub async fn eval(&self, script: &str) -> Value {
        self.driver
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
            .json()
            .clone()
    }

    /// Saves a full-page screenshot at `width` CSS pixels (a phone when `mobile`) to `path`,
    /// and returns what `script` returns at that width.
    pub async fn screenshot(&self, width: u32, mobile: bool, path: &Path, script: &str) -> Value {
        let devtools = self.driver.cdp();
        let metrics = |height: u64| json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile });
        devtools
            .send_raw("Emulation.setDeviceMetricsOverride", metrics(900))
            .await
            .expect("device metrics");
        let height = self
            .eval("return document.documentElement.scrollHeight;")
            .await
            .as_u64()
            .unwrap_or(900)
            .clamp(600, 8000);
        devtools
            .send_raw("Emulation.setDeviceMetricsOverride", metrics(height))
            .await
            .expect("device metrics");
        self.driver
            .screenshot(path)
            .await
            .unwrap_or_else(|e| panic!("screenshot {}: {e}", path.display()));
        let value = self.eval(script).await;
        devtools
            .send_raw("Emulation.clearDeviceMetricsOverride", json!({}))
            .await
            .expect("device metrics cleared");
        value
    }

    /// The page's console messages at `SEVERE` level since the last call.
    pub async fn console_errors(&self) -> Vec<String> {
        self.driver
            .get_log("browser")
            .await
            .expect("browser log")
            .into_iter()
            .filter(|entry| entry.level == "SEVERE")
            .map(|entry| entry.message)
            .collect()
    }

    /// DevTools network events since the last call (`Network.*` messages, as JSON).
    pub async fn network_events(&self) -> Vec<Value> {
        self.driver
            .get_log("performance")
            .await
            .expect("performance log")
            .into_iter()
            .filter_map(|entry| serde_json::from_str::<Value>(&entry.message).ok())
            .map(|message| message["message"].clone())
            .filter(|message| {
                message["method"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("Network."))
            })
            .collect()
    }

    /// Ends the session, then chromedriver.
    pub async fn quit(self) {
        let _ = tokio::time::timeout(WAIT, self.driver.clone().quit()).await;
    }
}

impl DriverProcess {
    async fn wait_until_ready(&mut self, port: u16, driver_bin: &str) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("`{driver_bin}` exited at start ({status}); {INSTALL_HINT}");
            }
            if let Ok(response) = client
                .get(format!("http://127.0.0.1:{port}/status"))
                .send()
                .await
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{driver_bin}` did not answer on port {port} within {WAIT:?}; {INSTALL_HINT}"
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browser it started. The ids are ours.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn open_session(port: u16, profile: &Path) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    let binary = std::env::var("GAZETTE_TEST_CHROMIUM").ok().or_else(|| {
        Path::new("/usr/bin/chromium")
            .exists()
            .then(|| "/usr/bin/chromium".to_owned())
    });
    if let Some(binary) = &binary {
        caps.set_binary(binary).expect("binary capability");
    }
    for flag in CHROMIUM_FLAGS {
        caps.add_arg(flag).expect("argument");
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display()))
        .expect("argument");
    // The console log, to find errors the page printed (a refused script, a CSP violation),
    // and DevTools' network events, which show the status each response had on the wire.
    caps.set(
        "goog:loggingPrefs",
        json!({ "browser": "ALL", "performance": "ALL" }),
    )
    .expect("logging capability");
    let session = WebDriver::builder(format!("http://127.0.0.1:{port}"), caps)
        .request_timeout(START)
        .connect();
    let driver = match tokio::time::timeout(START + Duration::from_secs(5), session).await {
        Ok(Ok(driver)) => driver,
        Ok(Err(e)) => panic!("Chromium did not start ({binary:?}): {e}; {INSTALL_HINT}"),
        Err(_) => panic!("Chromium did not start within {START:?} ({binary:?}); {INSTALL_HINT}"),
    };
    driver
        .update_timeouts(TimeoutConfiguration::new(
            Some(WAIT),
            Some(WAIT),
            Some(Duration::ZERO),
        ))
        .await
        .expect("timeouts");
    driver
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
