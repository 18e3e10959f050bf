//! The accept loop, with the limits that keep a few sockets from starving
//! everybody else: a cap on open connections, a deadline for each request's
//! head (which also closes idle keep-alive connections), a deadline for its
//! body, and bounded head sizes.
//!
//! Exists because `axum::serve` sets none of these: without a timer hyper
//! waits forever for a slow client's headers, and every accepted socket is
//! served however many there are. hyper also answers the requests it cannot
//! parse (a broken request line, a URI over 64 KiB, a head larger than its
//! buffer, a head not finished in time) by itself, with an empty body;
//! [`EnvelopeIo`] turns those answers into Alibaba's error envelope so a
//! client always gets a `Code` and a `RequestId`.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connection limits of the API port.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Most connections served at once; further ones wait in the kernel's
    /// accept queue until one closes.
    pub max_connections: usize,
    /// How long a client may take to send a request's head, counted from
    /// when the server is ready for it: also how long an idle keep-alive
    /// connection stays open.
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_connections: 512, header_timeout: Duration::from_secs(30) }
    }
}

/// Largest request head hyper buffers (URI and headers). The edge refuses
/// heads well below this with its own envelope ([`eip_api::bounds`]); hyper's
/// limit only catches what is far beyond.
const MAX_HEAD_BUF: usize = 256 * 1024;
/// Most header fields hyper parses (the edge's own limit is lower).
const MAX_HEAD_FIELDS: usize = 128;
/// How long in-flight connections get to finish on shutdown.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves, then lets open
/// connections finish their requests (up to 10 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD_BUF)
        .max_headers(MAX_HEAD_FIELDS)
        .writev(false)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.map_err(io::Error::other)?,
            _ = &mut shutdown => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let conn = http.serve_connection(TokioIo::new(EnvelopeIo::new(stream)), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => tracing::warn!("connections still open after the shutdown drain"),
    }
    Ok(())
}

/// A connection whose refusals written by hyper itself (a 4xx or 505 status
/// line with `content-length: 0`, which eipd's own answers never are: they
/// always carry a body) are replaced with the same status and Alibaba's JSON
/// envelope. hyper closes the connection after such an answer, so nothing
/// follows it.
pub struct EnvelopeIo<T> {
    inner: T,
    /// A replacement still being written, and how much of it is out.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> EnvelopeIo<T> {
    /// Wraps a connection.
    pub fn new(inner: T) -> Self {
        EnvelopeIo { inner, pending: None }
    }
}

/// The envelope for a head hyper refused, or `None` when `buf` is not one.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let head = buf.strip_prefix(b"HTTP/1.1 ").or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let status = std::str::from_utf8(head.get(..3)?).ok()?;
    if !buf.ends_with(b"\r\n\r\n") || !contains(buf, b"\r\ncontent-length: 0\r\n") {
        return None;
    }
    let (reason, code, message) = match status {
        "400" => ("Bad Request", "InvalidParameter", "The request is not valid HTTP/1.1."),
        "408" => ("Request Timeout", "RequestTimeout", "The request head was not received in time."),
        "413" => ("Payload Too Large", "InvalidParameter", "The request is too large."),
        "414" => ("URI Too Long", "InvalidParameter", "The request URI is too long."),
        "431" => ("Request Header Fields Too Large", "InvalidParameter", "The request headers are too large."),
        "505" => ("HTTP Version Not Supported", "InvalidParameter", "Only HTTP/1.1 and HTTP/1.0 are served."),
        _ => return None,
    };
    let e = eip_api::WireError::new(status.parse().ok()?, code, message);
    let body = eip_api::encode::error(eip_api::encode::Format::Json, &crate::server::new_request_id(), "openeip", &e);
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json;charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    Some(out)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

impl<T: AsyncWrite + Unpin> EnvelopeIo<T> {
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((buf, done)) = &mut self.pending {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &buf[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
            if *done == buf.len() {
                self.pending = None;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for EnvelopeIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for EnvelopeIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if let Some(replacement) = rewrite(buf) {
            this.pending = Some((replacement, 0));
            // What is not out yet goes with the flush hyper does next.
            if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bare_refusals_get_the_envelope() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 06:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(rewrite(bare).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{out}");
        let body: serde_json::Value = serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["Code"], "InvalidParameter");
        assert_eq!(body["RequestId"].as_str().unwrap().len(), 36);
        for status in ["400 Bad Request", "408 Request Timeout", "414 URI Too Long"] {
            let bare = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
            assert!(rewrite(bare.as_bytes()).is_some(), "{status}");
        }
    }

    #[test]
    fn eipds_own_answers_pass_untouched() {
        let ours =
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json;charset=utf-8\r\ncontent-length: 120\r\n\r\n";
        assert!(rewrite(ours).is_none());
        assert!(rewrite(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(rewrite(b"{\"RequestId\":\"x\"}").is_none());
    }
}
