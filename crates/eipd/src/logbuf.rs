//! A buffered log sink. Writing each request's log line straight to stderr
//! costs a system call per request, a large share of a request's CPU; lines
//! are instead appended to a buffer that is written out when it passes 16 KiB,
//! by a background thread at most 50 ms after the first line of a batch, and
//! on shutdown. The thread sleeps on a condition variable while there is
//! nothing to write, so an idle server does not wake up.

use parking_lot::{Condvar, Mutex};
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const FLUSH_AT: usize = 16 * 1024;

struct Shared {
    buf: Mutex<Vec<u8>>,
    ready: Condvar,
}

static BUFFER: OnceLock<Arc<Shared>> = OnceLock::new();

fn shared() -> &'static Arc<Shared> {
    BUFFER.get_or_init(|| {
        let b = Arc::new(Shared { buf: Mutex::new(Vec::with_capacity(FLUSH_AT * 2)), ready: Condvar::new() });
        let bg = b.clone();
        let _ = std::thread::Builder::new().name("eipd-log-flush".into()).spawn(move || {
            loop {
                {
                    let mut g = bg.buf.lock();
                    while g.is_empty() {
                        bg.ready.wait(&mut g);
                    }
                }
                // Let a batch accumulate, then write it in one call.
                std::thread::sleep(Duration::from_millis(50));
                drain(&bg.buf);
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
        drain(&b.buf);
    }
}

/// The writer handed to the tracing subscriber.
pub struct BufferedStderr;

impl Write for BufferedStderr {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let b = shared();
        let (was_empty, full) = {
            let mut g = b.buf.lock();
            let was_empty = g.is_empty();
            g.extend_from_slice(data);
            (was_empty, g.len() >= FLUSH_AT)
        };
        if full {
            drain(&b.buf);
        } else if was_empty {
            b.ready.notify_one();
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
