//! A buffered log sink. Writing each request's log line straight to stderr
//! costs a system call per request, a large share of a request's CPU; lines
//! are instead appended to a buffer that is written out when it passes 16 KiB
//! and by a background thread every 50 ms, and on shutdown.

use parking_lot::Mutex;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const FLUSH_AT: usize = 16 * 1024;

static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

fn buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    BUFFER.get_or_init(|| {
        let b = Arc::new(Mutex::new(Vec::with_capacity(FLUSH_AT * 2)));
        let bg = b.clone();
        let _ = std::thread::Builder::new().name("eipd-log-flush".into()).spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(50));
                drain(&bg);
            }
        });
        b
    })
}

fn drain(b: &Mutex<Vec<u8>>) {
    let out = {
        let mut g = b.lock();
        if g.is_empty() {
            return;
        }
        std::mem::replace(&mut *g, Vec::with_capacity(FLUSH_AT * 2))
    };
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(&out);
    let _ = err.flush();
}

/// Writes everything buffered now.
pub fn flush() {
    if let Some(b) = BUFFER.get() {
        drain(b);
    }
}

/// The writer handed to the tracing subscriber.
pub struct BufferedStderr;

impl Write for BufferedStderr {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let b = buffer();
        let full = {
            let mut g = b.lock();
            g.extend_from_slice(data);
            g.len() >= FLUSH_AT
        };
        if full {
            drain(b);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BufferedStderr {
    type Writer = BufferedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        BufferedStderr
    }
}
