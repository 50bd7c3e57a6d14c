//! A minimal HTTP/1.1 keep-alive GET client for the rest scenario: one TCP
//! connection, one request at a time, Content-Length or chunked bodies. It
//! costs the load generator far less CPU per request than a pooled client, so
//! that on a small machine the server, not the load generator, is measured.

use std::net::{IpAddr, SocketAddr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub struct RawHttp {
    addr: SocketAddr,
    source: Option<IpAddr>,
    host: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    req: Vec<u8>,
    /// Connections opened (1 + reconnects).
    pub connects: u64,
}

/// A response: status and body.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl RawHttp {
    /// `host` is the Host header value (host:port).
    pub fn new(addr: SocketAddr, source: Option<IpAddr>, host: String) -> Self {
        Self {
            addr,
            source,
            host,
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
            req: Vec::with_capacity(1024),
            connects: 0,
        }
    }

    async fn connect(&mut self) -> Result<(), String> {
        let socket = if self.addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|e| e.to_string())?;
        if let Some(ip) = self.source {
            socket
                .bind(SocketAddr::new(ip, 0))
                .map_err(|e| format!("bind {ip}: {e}"))?;
        }
        let s = socket
            .connect(self.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let _ = s.set_nodelay(true);
        self.stream = Some(s);
        self.connects += 1;
        Ok(())
    }

    /// `GET path_and_query` with extra headers. An error drops the connection
    /// (the next call reconnects).
    pub async fn get(
        &mut self,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Response, String> {
        let r = self.get_inner(path_and_query, headers).await;
        if r.is_err() {
            self.stream = None;
        }
        r
    }

    async fn get_inner(
        &mut self,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Response, String> {
        if self.stream.is_none() {
            self.connect().await?;
        }
        self.req.clear();
        self.req.extend_from_slice(b"GET ");
        self.req.extend_from_slice(path_and_query.as_bytes());
        self.req.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.req.extend_from_slice(self.host.as_bytes());
        self.req
            .extend_from_slice(b"\r\nUser-Agent: huddle-loadgen\r\nAccept: */*\r\n");
        for (k, v) in headers {
            self.req.extend_from_slice(k.as_bytes());
            self.req.extend_from_slice(b": ");
            self.req.extend_from_slice(v.as_bytes());
            self.req.extend_from_slice(b"\r\n");
        }
        self.req.extend_from_slice(b"\r\n");
        let stream = self.stream.as_mut().ok_or("not connected")?;
        stream
            .write_all(&self.req)
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.buf.clear();
        // Headers.
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > 64 * 1024 {
                return Err("response headers larger than 64 KiB".into());
            }
            read_more(stream, &mut self.buf).await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| "non-UTF-8 headers")?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let mut content_length: Option<usize> = None;
        let mut chunked = false;
        let mut close = status_line.starts_with("HTTP/1.0");
        for line in lines {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                content_length = v.parse().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.to_ascii_lowercase().contains("chunked");
            } else if k.eq_ignore_ascii_case("connection") {
                close = v.eq_ignore_ascii_case("close");
            }
        }
        let body = if chunked {
            let mut body = Vec::new();
            let mut pos = head_end;
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf[pos..], b"\r\n") {
                        break pos + i;
                    }
                    read_more(stream, &mut self.buf).await?;
                };
                let size_text =
                    std::str::from_utf8(&self.buf[pos..line_end]).map_err(|_| "bad chunk size")?;
                let size =
                    usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                        .map_err(|_| format!("bad chunk size {size_text:?}"))?;
                let data = line_end + 2;
                // The chunk and its CRLF (for the last chunk: the final CRLF, no trailers expected).
                while self.buf.len() < data + size + 2 {
                    read_more(stream, &mut self.buf).await?;
                }
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&self.buf[data..data + size]);
                pos = data + size + 2;
            }
            body
        } else if let Some(n) = content_length {
            while self.buf.len() < head_end + n {
                read_more(stream, &mut self.buf).await?;
            }
            self.buf[head_end..head_end + n].to_vec()
        } else {
            // Read to the end of the connection.
            loop {
                let mut chunk = [0u8; 8192];
                let r = stream
                    .read(&mut chunk)
                    .await
                    .map_err(|e| format!("read: {e}"))?;
                if r == 0 {
                    break;
                }
                self.buf.extend_from_slice(&chunk[..r]);
            }
            close = true;
            self.buf[head_end..].to_vec()
        };
        if close {
            self.stream = None;
        }
        Ok(Response { status, body })
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream
        .read(&mut chunk)
        .await
        .map_err(|e| format!("read: {e}"))?;
    if n == 0 {
        return Err("connection closed by the server".into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}
