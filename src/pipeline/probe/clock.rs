//! Where a live transport reads the validator's time and how it waits: this machine's clock
//! (sleeping), a libfaketime timestamp file that sets a local test server's clock (waiting is
//! writing a later time), or a clock shared with an in-process test server.

use crate::error::{Error, Result};
use crate::time::Millis;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A source of the validator's time.
pub trait Clock: Send {
    fn now(&mut self) -> Millis;
    fn wait_until(&mut self, t: Millis) -> Result<()>;
}

/// This machine's clock: the validator is assumed to keep the same time (a difference shows as
/// a window shifted to one side).
pub struct WallClock;

impl Clock for WallClock {
    fn now(&mut self) -> Millis {
        super::super::now_ms()
    }

    fn wait_until(&mut self, t: Millis) -> Result<()> {
        let now = self.now();
        if t > now {
            std::thread::sleep(std::time::Duration::from_millis((t - now) as u64));
        }
        Ok(())
    }
}

/// A local test server's clock set through libfaketime (`FAKETIME_TIMESTAMP_FILE` with
/// `FAKETIME_NO_CACHE=1`): the server's time stands at what the file says, whole seconds, and
/// moves only when the probe waits.
pub struct FileClock {
    path: PathBuf,
    now: Millis,
}

impl FileClock {
    /// Starts the server's clock at `start` (rounded down to a second).
    pub fn new(path: PathBuf, start: Millis) -> Result<FileClock> {
        let mut c = FileClock {
            path,
            now: start.div_euclid(1000) * 1000,
        };
        c.write()?;
        Ok(c)
    }

    fn write(&mut self) -> Result<()> {
        let text = crate::time::format_rfc3339(self.now);
        // An absolute "YYYY-MM-DD HH:MM:SS" (no `@`) is a frozen clock to libfaketime.
        let stamp = format!("{}\n", text[..19].replace('T', " "));
        std::fs::write(&self.path, stamp).map_err(|e| {
            Error::failed(format!(
                "cannot set the server clock in {}: {e}",
                self.path.display()
            ))
        })
    }
}

impl Clock for FileClock {
    fn now(&mut self) -> Millis {
        self.now
    }

    fn wait_until(&mut self, t: Millis) -> Result<()> {
        let t = t.div_euclid(1000) * 1000;
        if t > self.now {
            self.now = t;
            self.write()?;
        }
        Ok(())
    }
}

/// A clock shared with an in-process server (tests).
#[derive(Clone)]
pub struct SharedClock(pub Arc<Mutex<Millis>>);

impl Clock for SharedClock {
    fn now(&mut self) -> Millis {
        *self.0.lock().expect("the clock")
    }

    fn wait_until(&mut self, t: Millis) -> Result<()> {
        let mut now = self.0.lock().expect("the clock");
        *now = (*now).max(t);
        Ok(())
    }
}
