//! Hostile clients on raw TCP connections, each kind a bounded loop on one thread: connections
//! are polled without blocking, so hundreds of them need no thread each.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Whether the server has closed `stream` (reads it without blocking; data is discarded).
fn closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return true,
        }
    }
}

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the daemon");
    stream.set_nonblocking(true).expect("nonblocking");
    stream
}

/// Opens `n` connections that send a request line and then one header line every `every`,
/// never finishing the header. Returns when every one was closed by the server or after
/// `limit`: for each, how long after its first byte the server closed it (None: still open).
pub fn slowloris(addr: &str, n: usize, every: Duration, limit: Duration) -> Vec<Option<Duration>> {
    let mut conns: Vec<(TcpStream, Instant, Option<Duration>)> = (0..n)
        .map(|i| {
            let mut stream = connect(addr);
            let start = Instant::now();
            let _ = stream.write_all(format!("GET /?c={i} HTTP/1.1\r\nHost: x\r\n").as_bytes());
            (stream, start, None)
        })
        .collect();
    let begun = Instant::now();
    let mut next_line = begun + every;
    while begun.elapsed() < limit && conns.iter().any(|c| c.2.is_none()) {
        let send = Instant::now() >= next_line;
        for (i, (stream, start, closed_after)) in conns.iter_mut().enumerate() {
            if closed_after.is_some() {
                continue;
            }
            if closed(stream)
                || (send
                    && stream
                        .write(format!("X-Slow-{i}: 1\r\n").as_bytes())
                        .is_err())
            {
                *closed_after = Some(start.elapsed());
            }
        }
        if send {
            next_line += every;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    conns.into_iter().map(|c| c.2).collect()
}

/// Opens `n` connections, each sending a header line of `bytes` bytes that never ends, calling
/// `sample` between passes; holds them for `hold` once sent (or refused), then closes them.
/// Returns how many the server closed.
pub fn big_headers(
    addr: &str,
    n: usize,
    bytes: usize,
    hold: Duration,
    mut sample: impl FnMut(),
) -> usize {
    let chunk = vec![b'a'; 16 * 1024];
    let mut conns: Vec<(TcpStream, usize, bool)> = (0..n)
        .map(|_| {
            let mut stream = connect(addr);
            let _ = stream.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
            (stream, 0, false)
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut busy = false;
        for (stream, sent, refused) in conns.iter_mut() {
            if *refused || *sent >= bytes {
                continue;
            }
            let want = chunk.len().min(bytes - *sent);
            match stream.write(&chunk[..want]) {
                Ok(written) => {
                    *sent += written;
                    busy = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    // The server stopped reading: closed, or holding the bytes it has.
                    *refused = closed(stream);
                }
                Err(_) => *refused = true,
            }
        }
        sample();
        if !busy || Instant::now() > deadline {
            break;
        }
    }
    let held = Instant::now();
    while held.elapsed() < hold {
        sample();
        std::thread::sleep(Duration::from_millis(100));
    }
    conns
        .iter_mut()
        .map(|(stream, _, refused)| *refused || closed(stream))
        .filter(|closed| *closed)
        .count()
}

/// Opens `n` idle connections (connected, nothing sent) and returns them.
pub fn idle(addr: &str, n: usize) -> Vec<TcpStream> {
    (0..n).map(|_| connect(addr)).collect()
}

/// `n` clients that ask for `path` and read the answer 4 KiB every 200 ms, for `duration`,
/// calling `sample` between passes. Returns the bytes each has read.
pub fn slow_readers(
    addr: &str,
    n: usize,
    path: &str,
    duration: Duration,
    mut sample: impl FnMut(),
) -> Vec<usize> {
    let mut conns: Vec<(TcpStream, usize)> = (0..n)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).expect("connect");
            stream
                .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .expect("send the request");
            stream.set_nonblocking(true).expect("nonblocking");
            (stream, 0)
        })
        .collect();
    let begun = Instant::now();
    let mut buf = [0u8; 4096];
    while begun.elapsed() < duration {
        for (stream, read) in conns.iter_mut() {
            if let Ok(got) = stream.read(&mut buf) {
                *read += got;
            }
        }
        sample();
        std::thread::sleep(Duration::from_millis(200));
    }
    conns.into_iter().map(|(_, read)| read).collect()
}

/// One request on its own connection: status, headers (names lower-cased) and the body as
/// sent (not decompressed; chunked framing removed).
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `method path` with `headers`, `Connection: close`; None when the server does not answer
/// within `timeout`.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Option<Answer> {
    let mut stream = TcpStream::connect_timeout(&addr.parse().ok()?, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Content-Length: 0\r\n\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&raw[..line_end])
                .split(';')
                .next()?
                .trim(),
            16,
        )
        .ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}
